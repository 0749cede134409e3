/**
 * The one atomic file write: a partial write never replaces a good file. The content goes to a temp file in the
 * target's directory, is fsynced, then renamed over the target (rename is atomic within a file system), and the
 * directory is fsynced so the rename itself survives a crash.
 *
 * The target is the file the user meant: a path that is a symbolic link is written through to the link's target
 * (the link stays a link), and an existing file keeps its permission bits (a report kept at 600 stays 600). A new
 * file gets 666 less the umask, like any other file a program creates.
 *
 * Failures are `LocalFailure` (exit 1): a full disk or a missing directory is not the user's input and not a
 * remote service.
 */
import { randomUUID } from "node:crypto"
import { lstat, mkdir, open, readlink, realpath, rename, stat, unlink } from "node:fs/promises"
import { basename, dirname, isAbsolute, join, resolve } from "node:path"
import { Effect } from "effect"
import { LocalFailure } from "../Errors.ts"

export interface AtomicWriteOptions {
  /** Create the target's directory (and its parents) when missing; default false, so a typo in `--out` fails. */
  readonly createDirectory?: boolean | undefined
}

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

const isMissing = (error: unknown) => codeOf(error) === "ENOENT"

/** Node's messages start with the code (`EISDIR: illegal operation on a directory, open '…'`): keep the sentence. */
const describe = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const code = codeOf(error)
  const sentence = message.replace(/^[A-Z]+: /, "").replace(/, [a-z]+ '[^']*'( -> '[^']*')?$/, "")
  return code === undefined ? sentence : `${sentence} (${code})`
}

const MAX_LINKS = 40

/** The file a write to `path` lands in: `path` itself, or the end of its chain of symbolic links (even a dangling one). */
export const writeTarget = async (path: string): Promise<string> => {
  let current = resolve(path)
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    const info = await lstat(current).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error)))
    if (info === undefined || !info.isSymbolicLink()) return current
    const resolved = await realpath(current).catch(() => undefined)
    if (resolved !== undefined) return resolved
    // A dangling link: follow it one hop, so the write creates the file it points to.
    const link = await readlink(current)
    current = isAbsolute(link) ? link : join(dirname(current), link)
  }
  throw Object.assign(new Error(`too many levels of symbolic links at ${path}`), { code: "ELOOP" })
}

const writeAtomically = async (path: string, content: string | Uint8Array, options: AtomicWriteOptions): Promise<void> => {
  const target = await writeTarget(path)
  const directory = dirname(target)
  if (options.createDirectory === true) await mkdir(directory, { recursive: true })
  const existing = await stat(target).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error)))
  if (existing?.isDirectory() === true) {
    throw Object.assign(new Error("is a directory"), { code: "EISDIR" })
  }
  const temp = join(directory, `.${basename(target)}.${randomUUID()}.tmp`)
  try {
    const handle = await open(temp, "wx", 0o666)
    try {
      // open()'s mode passes through the umask; an existing file's bits are restored exactly.
      if (existing !== undefined) await handle.chmod(existing.mode & 0o7777)
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, target)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
  // Make the rename durable; not every file system lets a directory be fsynced, so this is best effort.
  const handle = await open(directory, "r").catch(() => undefined)
  if (handle !== undefined) {
    await handle.sync().catch(() => undefined)
    await handle.close().catch(() => undefined)
  }
}

/** Writes `content` to `path` atomically (see the module comment). */
export const writeFileAtomic = (
  path: string,
  content: string | Uint8Array,
  options: AtomicWriteOptions = {}
): Effect.Effect<void, LocalFailure> =>
  Effect.tryPromise({
    try: () => writeAtomically(path, content, options),
    catch: (error) => new LocalFailure({ operation: `write ${path}`, detail: describe(error) })
  })
