/**
 * Follows a file another machine (a Slurm node) appends to on shared storage: each `read` returns the complete
 * lines added since the last one; `flush` returns a last line without its newline once the writer is done.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs"
import { StringDecoder } from "node:string_decoder"

export class FileTail {
  readonly path: string
  private offset = 0
  private partial = ""
  // Keeps a UTF-8 character split across two reads whole.
  private readonly decoder = new StringDecoder("utf8")

  constructor(path: string) {
    this.path = path
  }

  read(): ReadonlyArray<string> {
    let size: number
    try {
      size = statSync(this.path).size
    } catch {
      return []
    }
    if (size <= this.offset) return []
    const buffer = Buffer.alloc(size - this.offset)
    const fd = openSync(this.path, "r")
    try {
      const got = readSync(fd, buffer, 0, buffer.length, this.offset)
      this.offset += got
      const text = this.partial + this.decoder.write(buffer.subarray(0, got))
      const lines = text.split("\n")
      this.partial = lines.pop() ?? ""
      return lines
    } finally {
      closeSync(fd)
    }
  }

  flush(): ReadonlyArray<string> {
    const lines = [...this.read(), ...(this.partial === "" ? [] : [this.partial])]
    this.partial = ""
    return lines
  }
}
