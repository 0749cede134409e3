/**
 * The end of an attempt's log file, for its job's page: at most `maxBytes` read from the end (a log of gigabytes
 * costs the same as a short one), cut to whole lines, the last `maxLines` kept.
 */
import { Effect } from "effect"
import { open } from "node:fs/promises"

export interface LogTail {
  readonly lines: ReadonlyArray<string>
  /** The file holds more than what is shown. */
  readonly truncated: boolean
}

export const tailLog = (path: string, options: { readonly maxBytes?: number; readonly maxLines?: number } = {}): Effect.Effect<LogTail | null> =>
  Effect.promise(async () => {
    const maxBytes = options.maxBytes ?? 64 * 1024
    const maxLines = options.maxLines ?? 200
    let file
    try {
      file = await open(path, "r")
    } catch {
      return null
    }
    try {
      const size = (await file.stat()).size
      const start = Math.max(0, size - maxBytes)
      const buffer = Buffer.alloc(size - start)
      const { bytesRead } = await file.read(buffer, 0, buffer.length, start)
      let lines = buffer.subarray(0, bytesRead).toString("utf8").split("\n")
      if (start > 0) lines = lines.slice(1)
      if (lines.at(-1) === "") lines = lines.slice(0, -1)
      return { lines: lines.slice(-maxLines), truncated: start > 0 || lines.length > maxLines }
    } catch {
      return null
    } finally {
      await file.close()
    }
  })
