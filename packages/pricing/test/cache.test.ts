import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { afterAll, beforeAll } from "vitest"
import { writeFileAtomic } from "@frugal/core/io"
import { CatalogCache, defaultCacheDirectory } from "../src/CatalogCache.ts"
import { marketDataSchema } from "../src/aws/MarketData.ts"

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "frugal-cache-test-"))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const rates = [{ instanceType: "p5.48xlarge", hourlyUsd: 55.04, vcpus: 192, memoryGiB: 2048, gpus: 8, gpuMemoryGiB: 640 }]
const key = ["aws", "us-east-1", "on-demand"]
const withCache = <A, E>(effect: Effect.Effect<A, E, CatalogCache>) => Effect.provide(effect, CatalogCache.layerAt(dir))

describe("CatalogCache", () => {
  it.live("round-trips an entry through an atomic write and leaves no temp file behind", () =>
    withCache(Effect.gen(function*() {
      const cache = yield* CatalogCache
      yield* cache.write(key, marketDataSchema("on-demand"), { fetchedAt: "2026-11-23T06:00:00.000Z", data: rates })
      const entry = yield* cache.read(key, marketDataSchema("on-demand"))
      assert.deepStrictEqual(Option.getOrThrow(entry), { fetchedAt: "2026-11-23T06:00:00.000Z", data: rates })
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(join(dir, "aws", "us-east-1"))), ["on-demand.json"])
      assert.deepStrictEqual(yield* cache.children(["aws"]), ["us-east-1"])
    })))

  it.live("ignores a file truncated mid-write, with a warning, instead of failing", () =>
    withCache(Effect.gen(function*() {
      const cache = yield* CatalogCache
      yield* cache.write(key, marketDataSchema("on-demand"), { fetchedAt: "2026-11-23T06:00:00.000Z", data: rates })
      const path = cache.pathOf(key)
      const text = yield* Effect.promise(() => readFile(path, "utf8"))
      yield* Effect.promise(() => writeFile(path, text.slice(0, Math.floor(text.length / 2))))
      assert.isTrue(Option.isNone(yield* cache.read(key, marketDataSchema("on-demand"))))
    })))

  it.live("ignores a file whose content is not what the schema expects", () =>
    withCache(Effect.gen(function*() {
      const cache = yield* CatalogCache
      yield* Effect.promise(() => writeFile(cache.pathOf(key), JSON.stringify({ format: 1, fetchedAt: "x", data: [{ instanceType: 3 }] })))
      assert.isTrue(Option.isNone(yield* cache.read(key, marketDataSchema("on-demand"))))
      assert.isTrue(Option.isNone(yield* cache.read(["aws", "nowhere", "spot"], Schema.Unknown)))
    })))

  it.live("a failed write keeps the previous good file", () =>
    Effect.gen(function*() {
      const path = join(dir, "keep.json")
      yield* writeFileAtomic(path, "good")
      // Writing into a path whose parent is a file fails before the rename.
      const failed = yield* writeFileAtomic(join(path, "child.json"), "bad", { createDirectory: true }).pipe(Effect.flip)
      assert.isDefined(failed)
      assert.strictEqual(yield* Effect.promise(() => readFile(path, "utf8")), "good")
    }))

  it.effect("lives in FRUGAL_CACHE_DIR, else $XDG_CACHE_HOME/frugal, else ~/.cache/frugal", () =>
    Effect.sync(() => {
      assert.strictEqual(defaultCacheDirectory({ FRUGAL_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x" }, "/home/u"), "/c")
      assert.strictEqual(defaultCacheDirectory({ XDG_CACHE_HOME: "/x" }, "/home/u"), "/x/frugal")
      assert.strictEqual(defaultCacheDirectory({}, "/home/u"), "/home/u/.cache/frugal")
    }))
})
