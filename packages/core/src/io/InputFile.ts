/**
 * The one way a user's input file is read (a workload, a trace, Cost Explorer JSON, a catalog, a pricing
 * config): regular files only, a size cap per kind, and interruptible while it reads.
 *
 * - The file is opened with `O_NONBLOCK` and checked with `fstat` on the open handle, so a FIFO (whose plain
 *   `open` waits for a writer forever), a device (`/dev/zero` never ends) or a directory is refused at once,
 *   and a file swapped for one of those between a check and the open cannot slip through.
 * - The size is checked before reading and again while reading (a file that grows past the cap stops there).
 * - It is read in chunks, each an interruptible step, so Ctrl-C or SIGTERM ends the process between two chunks.
 *
 * Every failure is `InvalidInput` (exit 2) naming the flag the path came from, the path, and what was expected.
 */
import { constants } from "node:fs"
import { type FileHandle, open } from "node:fs/promises"
import { Effect, Option } from "effect"
import { type InputIssue, InvalidInput } from "../Errors.ts"

const MiB = 1024 * 1024

/** What each kind of input is, in words, and the largest file of that kind accepted. */
export const INPUT_FILE_KINDS = {
  /** A fleet of 10,000 workloads is a few MB. */
  workload: { what: "workload spec (YAML or JSON)", maxBytes: 64 * MiB },
  /** Months of availability at one tick a minute is a few MB per zone. */
  trace: { what: "spot trace (JSON or CSV)", maxBytes: 64 * MiB },
  /** A request trace of millions of requests (the Azure LLM traces) is a few hundred MB at most replayed here. */
  requestTrace: { what: "request trace CSV", maxBytes: 256 * MiB },
  /** A year of daily Cost Explorer groups for hundreds of instance types is tens of MB. */
  costExplorer: { what: "Cost Explorer JSON", maxBytes: 64 * MiB },
  /** A month of hourly samples of two metrics for 1,000 GPUs is about 40 MB. */
  utilization: { what: "CloudWatch GetMetricData JSON", maxBytes: 128 * MiB },
  catalog: { what: "catalog (JSON or CSV)", maxBytes: 64 * MiB },
  pricingConfig: { what: "pricing config (YAML or JSON)", maxBytes: 1 * MiB },
  /** An infrastructure profile is a few KB. */
  infraProfile: { what: "infrastructure profile (YAML or JSON)", maxBytes: 1 * MiB },
  /** `frugal server --config`: teams, budgets and limits, a few KB. */
  schedulerConfig: { what: "scheduler config (YAML or JSON)", maxBytes: 1 * MiB },
  /** Frugal's own price cache: one region's data of one kind. */
  cache: { what: "price cache entry", maxBytes: 256 * MiB }
} as const satisfies Record<string, { readonly what: string; readonly maxBytes: number }>

export type InputFileKind = keyof typeof INPUT_FILE_KINDS

export interface InputFileOptions {
  readonly kind: InputFileKind
  /**
   * The flag the path came from (`--trace`, `--ce-file`): the error names it and the path. Absent for a
   * positional argument (a workload FILE), where the error names the path alone.
   */
  readonly flag?: string | undefined
}

const CHUNK_BYTES = 1 * MiB

/** `64 MiB`, `1 MiB`. */
export const formatMiB = (bytes: number): string => `${Math.round((bytes / MiB) * 10) / 10} MiB`

/** The error for `path`: sourced from the flag when there is one, else from the path itself. */
export const inputFileError = (path: string, options: InputFileOptions, expected: string, actual?: string): InvalidInput => {
  const issue: InputIssue = actual === undefined ? { path: options.flag === undefined ? "" : path, expected } : {
    path: options.flag === undefined ? "" : path,
    expected,
    actual
  }
  return new InvalidInput({ source: options.flag ?? path, issues: [issue] })
}

const codeOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined
  return typeof error.code === "string" ? error.code : undefined
}

const openFailure = (path: string, options: InputFileOptions, error: unknown): InvalidInput => {
  const what = INPUT_FILE_KINDS[options.kind].what
  switch (codeOf(error)) {
    case "ENOENT":
    case "ENOTDIR":
      return inputFileError(path, options, `a readable file with the ${what}`, "no such file")
    case "EACCES":
    case "EPERM":
      return inputFileError(path, options, `a file you may read with the ${what}`, "permission denied")
    case "EISDIR":
      return inputFileError(path, options, `a file with the ${what}, not a directory`, "a directory")
    case "ELOOP":
      return inputFileError(path, options, `a file with the ${what}`, "a symbolic link loop")
    case "ENXIO":
      // open(O_NONBLOCK) of a socket or of a FIFO's write end with no reader.
      return inputFileError(path, options, `a regular file with the ${what}`, "a socket or FIFO")
    default:
      return inputFileError(path, options, `a readable file with the ${what}`, error instanceof Error ? error.message : String(error))
  }
}

/** What a non-regular file is, for the message. */
const typeOf = (stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }) =>
  stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
    ? "a FIFO (named pipe)"
    : stats.isCharacterDevice()
    ? "a character device"
    : stats.isBlockDevice()
    ? "a block device"
    : stats.isSocket()
    ? "a socket"
    : "not a regular file"

// O_NONBLOCK makes open() of a FIFO return at once instead of waiting for a writer; it is absent on Windows.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/** The file is absent: only `readOptionalInputFile` tells it apart from the other failures. */
class Absent {
  readonly _tag = "Absent"
}

const readBytes = (path: string, options: InputFileOptions, absentIsFine: boolean): Effect.Effect<Uint8Array, InvalidInput | Absent> => {
  const { what, maxBytes } = INPUT_FILE_KINDS[options.kind]
  const tooLarge = (size: string) => inputFileError(path, options, `a file of at most ${formatMiB(maxBytes)} with the ${what}`, size)
  return Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => open(path, OPEN_FLAGS),
      catch: (error) => (absentIsFine && codeOf(error) === "ENOENT" ? new Absent() : openFailure(path, options, error))
    }),
    (handle: FileHandle) =>
      Effect.gen(function*() {
        const stats = yield* Effect.tryPromise({ try: () => handle.stat(), catch: (error) => openFailure(path, options, error) })
        if (stats.isDirectory()) return yield* inputFileError(path, options, `a file with the ${what}, not a directory`, "a directory")
        if (!stats.isFile()) {
          const hint = options.flag === undefined && options.kind === "workload" ? " (use - to read standard input)" : ""
          return yield* inputFileError(path, options, `a regular file with the ${what}${hint}`, typeOf(stats))
        }
        if (stats.size > maxBytes) return yield* tooLarge(`${formatMiB(stats.size)} (${stats.size} bytes)`)
        const chunks: Array<Uint8Array> = []
        let total = 0
        while (true) {
          const chunk = yield* Effect.tryPromise({
            try: async () => {
              const buffer = Buffer.allocUnsafe(CHUNK_BYTES)
              const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null)
              return buffer.subarray(0, bytesRead)
            },
            catch: (error) => openFailure(path, options, error)
          })
          if (chunk.byteLength === 0) break
          total += chunk.byteLength
          // The file grew past the cap after fstat: stop reading rather than follow it.
          if (total > maxBytes) return yield* tooLarge(`more than ${formatMiB(maxBytes)}`)
          chunks.push(chunk)
        }
        return Buffer.concat(chunks, total)
      }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )
}

const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")

/** The regular file at `path` as bytes, at most the kind's cap. */
export const readInputBytes = (path: string, options: InputFileOptions): Effect.Effect<Uint8Array, InvalidInput> =>
  readBytes(path, options, false).pipe(
    Effect.catchTag("Absent", () => Effect.fail(openFailure(path, options, Object.assign(new Error("absent"), { code: "ENOENT" }))))
  )

/** The regular file at `path` as UTF-8 text (invalid bytes become U+FFFD, which decoders can reject). */
export const readInputFile = (path: string, options: InputFileOptions): Effect.Effect<string, InvalidInput> =>
  Effect.map(readInputBytes(path, options), utf8)

/** Like `readInputFile` for a file that may be absent (a default config path, a cache entry): none when it is. */
export const readOptionalInputFile = (path: string, options: InputFileOptions): Effect.Effect<Option.Option<string>, InvalidInput> =>
  readBytes(path, options, true).pipe(
    Effect.map((bytes) => Option.some(utf8(bytes))),
    Effect.catchTag("Absent", () => Effect.succeed(Option.none<string>()))
  )
