/**
 * Reading the FILE argument of `plan`/`estimate`: the file system's failures (missing, a directory,
 * unreadable, far too large) become `InvalidInput` naming the file, like a malformed spec does, so a
 * user gets exit 2 and one line saying what to fix. `-` reads standard input.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import { decodeWorkloadFile, InvalidInput, type WorkloadFile } from "@frugal/core"

/** A fleet of 10,000 workloads is a few MB; anything past this is not a workload file. */
export const MAX_WORKLOAD_FILE_BYTES = 64 * 1024 * 1024

const unreadable = (path: string, expected: string, actual: string) =>
  new InvalidInput({ source: path, issues: [{ path: "", expected, actual }] })

const describeSystemError = (path: string, error: PlatformError.PlatformError): InvalidInput => {
  const reason = error.reason
  switch (reason._tag) {
    case "NotFound":
      return unreadable(path, "an existing workload file (YAML or JSON)", "no such file")
    case "PermissionDenied":
      return unreadable(path, "a workload file you may read", "permission denied")
    default:
      return unreadable(path, "a readable workload file (YAML or JSON)", reason.message)
  }
}

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

/** The text of a workload file; `-` is standard input. */
export const readWorkloadText = (path: string): Effect.Effect<string, InvalidInput, FileSystem.FileSystem> =>
  path === "-"
    ? readStdin
    : Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const info = yield* fs.stat(path)
      if (info.type === "Directory") {
        return yield* unreadable(path, "a workload file (YAML or JSON), not a directory", "a directory")
      }
      if (info.type !== "File") {
        // A device or pipe may never end (/dev/zero); pipe a spec in with `-` instead.
        return yield* unreadable(path, "a regular workload file (use - to read standard input)", `a ${info.type.toLowerCase()}`)
      }
      if (Number(info.size) > MAX_WORKLOAD_FILE_BYTES) {
        return yield* unreadable(
          path,
          `a workload file of at most ${MAX_WORKLOAD_FILE_BYTES / 1024 / 1024} MiB`,
          `${(Number(info.size) / 1024 / 1024).toFixed(0)} MiB`
        )
      }
      return yield* fs.readFileString(path, "utf-8")
    }).pipe(Effect.catchTag("PlatformError", (error) => Effect.fail(describeSystemError(path, error))))

/** Reads and decodes a workload file: every problem with it is one `InvalidInput`. */
export const readWorkloadFile = (path: string): Effect.Effect<WorkloadFile, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(readWorkloadText(path), (text) => decodeWorkloadFile(text, path === "-" ? "stdin" : path))
