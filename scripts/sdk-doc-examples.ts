/**
 * docs/sdk.md shows each `examples/sdk/*.ts` file verbatim, followed by what it printed when run. Each example sits
 * between an opening marker naming the file and a closing marker:
 *
 *   <!-- example: examples/sdk/plan.ts -->            runs offline: the file, then "prints:" and its output
 *   <!-- example: examples/sdk/prices.ts (aws) -->    needs AWS: the file alone (a test runs it against a loopback)
 *   <!-- /example -->
 *
 * This script runs every offline example (from the repository root, with a Frugal home, ledger and XDG directories
 * of its own, so nothing of yours leaks in) and rewrites each section. `test/sdk-doc.test.ts` runs them again and
 * fails when the document differs.
 *
 * Usage: `node scripts/sdk-doc-examples.ts` (rewrites docs/sdk.md; needs Python 3 with PyTorch for the job examples)
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = dirname(dirname(fileURLToPath(import.meta.url)))
export const SDK_DOC = join(root, "docs", "sdk.md")

const OPEN = /^<!-- example: (\S+)( \(aws\))? -->$/
const CLOSE = "<!-- /example -->"

export interface DocExample {
  /** Relative to the repository root. */
  readonly file: string
  /** Needs an AWS account: shown without output, run by the test against a loopback AWS. */
  readonly aws: boolean
  /** The section as the document has it, markers included. */
  readonly section: string
}

/** Every example section of the document, in order. */
export const docExamples = (document: string): ReadonlyArray<DocExample> => {
  const lines = document.split("\n")
  const examples: Array<DocExample> = []
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i] ?? "")
    if (open === null) continue
    const end = lines.indexOf(CLOSE, i)
    if (end === -1) throw new Error(`${open[1]}: no ${CLOSE} after line ${i + 1}`)
    examples.push({ file: open[1] ?? "", aws: open[2] !== undefined, section: lines.slice(i, end + 1).join("\n") })
    i = end
  }
  return examples
}

/** Environment variables of the caller that would change what an example prints (its ledger, profile, prices). */
const PERSONAL = /^(FRUGAL_|XDG_|AWS_)/

export interface ExampleRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs an example file from the repository root, in a home of its own; `env` is added (an AWS endpoint). Without
 * blocking: the loopback servers of the tests answer from this process.
 */
export const runExample = async (file: string, env: Readonly<Record<string, string>> = {}): Promise<ExampleRun> => {
  const home = mkdtempSync(join(tmpdir(), "frugal-sdk-doc-"))
  try {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !PERSONAL.test(name)))
    const child = spawn(process.execPath, [join(root, file)], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...inherited,
        NO_COLOR: "1",
        FRUGAL_HOME: join(home, "frugal"),
        XDG_CONFIG_HOME: join(home, "config"),
        XDG_DATA_HOME: join(home, "data"),
        XDG_CACHE_HOME: join(home, "cache"),
        ...env
      }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject)
      child.on("close", resolve)
    })
    return { status, stdout, stderr }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

/** The section for an example: the file verbatim and, when it runs offline, what it printed. */
export const renderSection = (file: string, aws: boolean, output: string | null): string =>
  [
    `<!-- example: ${file}${aws ? " (aws)" : ""} -->`,
    "```ts",
    readFileSync(join(root, file), "utf8").trimEnd(),
    "```",
    ...(output === null ? [] : ["", "prints:", "", "```text", output.trimEnd(), "```"]),
    CLOSE
  ].join("\n")

/** The document with every offline example run again and every section rewritten. */
export const regenerate = async (document: string): Promise<string> => {
  let rewritten = document
  for (const example of docExamples(document)) {
    let output: string | null = null
    if (!example.aws) {
      const run = await runExample(example.file)
      if (run.status !== 0 || run.stderr !== "") throw new Error(`${example.file} exited ${run.status}:\n${run.stderr}`)
      output = run.stdout
    }
    rewritten = rewritten.replace(example.section, () => renderSection(example.file, example.aws, output))
  }
  return rewritten
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SDK_DOC, await regenerate(readFileSync(SDK_DOC, "utf8")))
  console.log(`rewrote the examples of ${SDK_DOC.slice(root.length + 1)}`)
}
