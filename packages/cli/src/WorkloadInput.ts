/**
 * Reading the FILE argument of `plan`/`estimate`/`run`: the file system's failures (missing, a directory,
 * a FIFO or device, unreadable, far too large) become `InvalidInput` naming the file, like a malformed spec
 * does, so a user gets exit 2 and one line saying what to fix. `-` reads standard input.
 */
import * as Effect from "effect/Effect"
import { decodeWorkloadFile, InvalidInput, type WorkloadFile } from "@frugal/core"
import { INPUT_FILE_KINDS, readInputFile } from "@frugal/core/io"

/** A fleet of 10,000 workloads is a few MB; anything past this is not a workload file. */
export const MAX_WORKLOAD_FILE_BYTES = INPUT_FILE_KINDS.workload.maxBytes

const unreadable = (path: string, expected: string, actual: string) =>
  new InvalidInput({ source: path, issues: [{ path: "", expected, actual }] })

const readStdin: Effect.Effect<string, InvalidInput> = Effect.tryPromise({
  try: async () => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    for await (const chunk of process.stdin) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
      bytes += buffer.byteLength
      if (bytes > MAX_WORKLOAD_FILE_BYTES) throw new Error("too large")
      chunks.push(buffer)
    }
    return Buffer.concat(chunks).toString("utf8")
  },
  catch: () => unreadable("stdin", `a workload of at most ${MAX_WORKLOAD_FILE_BYTES / 1024 / 1024} MiB`, "more")
})

/** The text of a workload file; `-` is standard input. Files go through the shared bounded reader. */
export const readWorkloadText = (path: string): Effect.Effect<string, InvalidInput> =>
  path === "-" ? readStdin : readInputFile(path, { kind: "workload" })

/** Reads and decodes a workload file: every problem with it is one `InvalidInput`. */
export const readWorkloadFile = (path: string): Effect.Effect<WorkloadFile, InvalidInput> =>
  Effect.flatMap(readWorkloadText(path), (text) => decodeWorkloadFile(text, path === "-" ? "stdin" : path))
