/**
 * The live catalog's disk cache: one JSON file per region and kind of data under
 * `$FRUGAL_CACHE_DIR` (default `$XDG_CACHE_HOME/frugal`, else `~/.cache/frugal`).
 *
 * A write never replaces a good file with a partial one (`writeFileAtomic` of `@frugal/core/io`: temp file in
 * the same directory, fsync, rename). Reads go through the shared bounded reader. A file that cannot be read or
 * does not parse or decode (truncated, hand-edited, from another version, not a regular file) is ignored with a
 * warning, never an error: the catalog then refreshes or falls back.
 */
import { readdir } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import { readOptionalInputFile, writeFileAtomic } from "@frugal/core/io"
import { Context, Effect, Layer, Option, Result, Schema } from "effect"

export const CACHE_FORMAT = 1

/** A cached datum with the time it was fetched. */
export interface CacheEntry<A> {
  readonly fetchedAt: string
  readonly data: A
}

export class CacheWriteError extends Schema.TaggedError<CacheWriteError>()("CacheWriteError", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot write the price cache file ${this.path}: ${this.detail}`
  }
}

const Envelope = Schema.Struct({
  format: Schema.Literal(CACHE_FORMAT),
  fetchedAt: Schema.String,
  data: Schema.Unknown
})
const decodeEnvelope = Schema.decodeUnknownResult(Schema.fromJsonString(Envelope))

/** `FRUGAL_CACHE_DIR`, else `$XDG_CACHE_HOME/frugal`, else `~/.cache/frugal` (XDG Base Directory spec). */
export const defaultCacheDirectory = (env: Readonly<Record<string, string | undefined>>, home: string): string => {
  const explicit = env["FRUGAL_CACHE_DIR"]
  if (explicit !== undefined && explicit !== "") return explicit
  const xdg = env["XDG_CACHE_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(home, ".cache"), "frugal")
}

export class CatalogCache extends Context.Service<CatalogCache, {
  readonly directory: string
  /** The file a key lives in (for messages and tests). */
  readonly pathOf: (key: ReadonlyArray<string>) => string
  /** The cached datum, or none when absent, unreadable or not what `schema` expects (with a warning). */
  readonly read: <A, I>(key: ReadonlyArray<string>, schema: Schema.Codec<A, I>) => Effect.Effect<Option.Option<CacheEntry<A>>>
  /** Names of the entries directly under a key prefix (`["aws"]` → cached regions); empty when none. */
  readonly children: (prefix: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>>
  readonly write: <A, I>(
    key: ReadonlyArray<string>,
    schema: Schema.Codec<A, I>,
    entry: CacheEntry<A>
  ) => Effect.Effect<void, CacheWriteError>
}>()("@frugal/pricing/CatalogCache") {
  /** A cache in `directory`. */
  static readonly layerAt = (directory: string) => Layer.succeed(CatalogCache, makeCatalogCache(directory))

  /** A cache in the configured directory (`FRUGAL_CACHE_DIR`, XDG). */
  static readonly layer = Layer.effect(
    CatalogCache,
    Effect.sync(() => makeCatalogCache(defaultCacheDirectory(process.env, homedir())))
  )
}

const makeCatalogCache = (directory: string): CatalogCache["Service"] => {
  const pathOf = (key: ReadonlyArray<string>) => join(directory, ...key.slice(0, -1), `${key[key.length - 1] ?? "entry"}.json`)

  const read = <A, I>(key: ReadonlyArray<string>, schema: Schema.Codec<A, I>) => {
    const path = pathOf(key)
    return Effect.gen(function*() {
      const text = yield* readOptionalInputFile(path, { kind: "cache" }).pipe(
        Effect.catch((error) => Effect.logWarning(`ignoring price cache file ${path}: ${error.message}`).pipe(Effect.as(Option.none<string>())))
      )
      if (Option.isNone(text)) return Option.none<CacheEntry<A>>()
      const envelope = decodeEnvelope(text.value)
      if (Result.isFailure(envelope)) {
        yield* Effect.logWarning(`ignoring corrupt price cache file ${path}: ${envelope.failure.message.slice(0, 200)}`)
        return Option.none<CacheEntry<A>>()
      }
      const data = Schema.decodeUnknownResult(schema)(envelope.success.data)
      if (Result.isFailure(data)) {
        yield* Effect.logWarning(`ignoring price cache file ${path} with unexpected content: ${data.failure.message.slice(0, 200)}`)
        return Option.none<CacheEntry<A>>()
      }
      return Option.some({ fetchedAt: envelope.success.fetchedAt, data: data.success })
    })
  }

  const write = <A, I>(key: ReadonlyArray<string>, schema: Schema.Codec<A, I>, entry: CacheEntry<A>) => {
    const path = pathOf(key)
    return Effect.gen(function*() {
      const encoded = yield* Schema.encodeEffect(schema)(entry.data).pipe(
        Effect.mapError((error) => new CacheWriteError({ path, detail: error.message }))
      )
      const text = JSON.stringify({ format: CACHE_FORMAT, fetchedAt: entry.fetchedAt, data: encoded })
      yield* writeFileAtomic(path, text, { createDirectory: true }).pipe(
        Effect.mapError((error) => new CacheWriteError({ path, detail: error.detail }))
      )
    })
  }

  const children = (prefix: ReadonlyArray<string>) =>
    Effect.tryPromise(() => readdir(join(directory, ...prefix), { withFileTypes: true })).pipe(
      Effect.map((entries) => entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort()),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )

  return CatalogCache.of({ directory, pathOf, read, children, write })
}
