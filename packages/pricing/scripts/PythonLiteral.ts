/**
 * A parser for the subset of Python literal syntax that AWS `GpuInfo` / `NeuronInfo` dicts use in the
 * SkyPilot catalog (`{'Gpus': [{'Name': 'H100', 'Count': 8, ...}], 'TotalGpuMemoryInMiB': 655360}`):
 * dicts, lists, tuples, quoted strings, ints, floats, True, False and None. It never evaluates code.
 *
 * Why not `JSON.parse` after swapping quotes: names may contain apostrophes or double quotes, and
 * `True`/`None` are not JSON.
 */

export type PythonValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<PythonValue>
  | { readonly [key: string]: PythonValue }

export class PythonLiteralError extends Error {
  override readonly name = "PythonLiteralError"
}

/** Parses one Python literal; throws `PythonLiteralError` naming the offset of the first problem. */
export const parsePythonLiteral = (text: string): PythonValue => {
  const parser = new Parser(text)
  const value = parser.value()
  parser.skipSpace()
  if (!parser.atEnd()) parser.fail("end of input")
  return value
}

class Parser {
  private position = 0
  private readonly text: string
  constructor(text: string) {
    this.text = text
  }

  atEnd(): boolean {
    return this.position >= this.text.length
  }

  fail(expected: string): never {
    const found = this.atEnd() ? "end of input" : JSON.stringify(this.text.slice(this.position, this.position + 12))
    throw new PythonLiteralError(`at offset ${this.position}: expected ${expected}, found ${found}`)
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text.charAt(this.position))) this.position++
  }

  value(): PythonValue {
    this.skipSpace()
    const char = this.text.charAt(this.position)
    if (char === "{") return this.dict()
    if (char === "[") return this.sequence("[", "]")
    if (char === "(") return this.sequence("(", ")")
    if (char === "'" || char === "\"") return this.string()
    if (char === "-" || char === "+" || char === "." || (char >= "0" && char <= "9")) return this.number()
    for (const [word, result] of KEYWORDS) {
      if (this.text.startsWith(word, this.position) && !isIdentifierChar(this.text.charAt(this.position + word.length))) {
        this.position += word.length
        return result
      }
    }
    return this.fail("a Python literal")
  }

  private expect(char: string): void {
    this.skipSpace()
    if (this.text.charAt(this.position) !== char) this.fail(`'${char}'`)
    this.position++
  }

  /** True (and consumes it) when the next non-space character is `char`. */
  private accept(char: string): boolean {
    this.skipSpace()
    if (this.text.charAt(this.position) === char) {
      this.position++
      return true
    }
    return false
  }

  private dict(): { readonly [key: string]: PythonValue } {
    this.expect("{")
    const result: Record<string, PythonValue> = {}
    if (this.accept("}")) return result
    for (;;) {
      this.skipSpace()
      const key = this.value()
      if (typeof key !== "string" && typeof key !== "number") this.fail("a string or number dict key")
      this.expect(":")
      Object.defineProperty(result, String(key), { value: this.value(), enumerable: true, writable: true, configurable: true })
      if (this.accept("}")) return result
      this.expect(",")
      if (this.accept("}")) return result // trailing comma
    }
  }

  private sequence(open: string, close: string): ReadonlyArray<PythonValue> {
    this.expect(open)
    const result: Array<PythonValue> = []
    if (this.accept(close)) return result
    for (;;) {
      result.push(this.value())
      if (this.accept(close)) return result
      this.expect(",")
      if (this.accept(close)) return result
    }
  }

  private string(): string {
    const quote = this.text.charAt(this.position)
    this.position++
    let result = ""
    for (;;) {
      if (this.atEnd()) this.fail(`closing ${quote}`)
      const char = this.text.charAt(this.position++)
      if (char === quote) return result
      if (char === "\n") this.fail(`closing ${quote} before the end of the line`)
      if (char !== "\\") {
        result += char
        continue
      }
      const escaped = this.text.charAt(this.position++)
      const simple = ESCAPES.get(escaped)
      if (simple !== undefined) {
        result += simple
      } else if (escaped === "x" || escaped === "u") {
        const digits = escaped === "x" ? 2 : 4
        const hex = this.text.slice(this.position, this.position + digits)
        if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail(`${digits} hex digits`)
        result += String.fromCharCode(Number.parseInt(hex, 16))
        this.position += digits
      } else {
        // Python keeps unknown escapes verbatim, backslash included.
        result += `\\${escaped}`
      }
    }
  }

  private number(): number {
    const match = /^[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.position))
    if (match === null) return this.fail("a number")
    this.position += match[0].length
    const value = Number(match[0].replaceAll("_", ""))
    if (!Number.isFinite(value)) this.fail("a finite number")
    return value
  }
}

const KEYWORDS: ReadonlyArray<readonly [string, PythonValue]> = [["True", true], ["False", false], ["None", null]]

const ESCAPES = new Map<string, string>([
  ["\\", "\\"],
  ["'", "'"],
  ["\"", "\""],
  ["n", "\n"],
  ["t", "\t"],
  ["r", "\r"],
  ["0", "\0"]
])

const isIdentifierChar = (char: string): boolean => /[A-Za-z0-9_]/.test(char)
