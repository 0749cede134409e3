/** A partial write never replaces a good file: write a temp file beside it, fsync, rename over it. */
import { RemoteServiceFailure } from "@frugal/core"
import { Effect } from "effect"
import { open, rename, rm } from "node:fs/promises"
import { basename, dirname, join } from "node:path"

export class WriteFailed extends Error {}

export const writeFileAtomic = (path: string, content: string): Effect.Effect<void, RemoteServiceFailure> =>
  Effect.tryPromise({
    try: async () => {
      const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
      try {
        const handle = await open(temp, "w", 0o644)
        try {
          await handle.writeFile(content, "utf8")
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temp, path)
      } catch (error) {
        await rm(temp, { force: true })
        throw error
      }
    },
    catch: (error) =>
      new RemoteServiceFailure({
        service: "file system",
        operation: `write ${path}`,
        detail: error instanceof Error ? error.message : String(error)
      })
  })
