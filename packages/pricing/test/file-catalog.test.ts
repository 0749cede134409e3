import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { layer } from "../src/FileCatalog.ts"
import { PriceCatalog } from "../src/PriceCatalog.ts"

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "frugal-file-catalog-"))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const CSV = `instanceType,region,purchaseOption,hourlyPriceUsd,availabilityZone,termYears,paymentOption,offeringClass,upfrontUsd,recurringHourlyUsd
p5.48xlarge,us-east-1,on-demand,48.10,,,,,,
p5.48xlarge,us-east-1,reserved,30.5,,1,all-upfront,standard,267180,0
g6e.xlarge,us-east-1,spot,0.61,use1-az4,,,,,
`

describe("FileCatalog (--catalog PATH)", () => {
  it.live("serves a CSV of the user's own rates, with the same account pricing as every catalog", () =>
    Effect.gen(function*() {
      const path = join(dir, "rates.csv")
      yield* Effect.promise(() => writeFile(path, CSV))
      const catalog = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog()).pipe(
        Effect.provide(layer(path, { path: "pricing.yaml", pricing: { enterpriseDiscountPct: 10 } }))
      )
      assert.strictEqual(catalog.source.kind, "file")
      assert.deepStrictEqual(catalog.offers.map((o) => [o.instanceType, o.purchaseOption, o.hourlyPriceUsd, o.availabilityZone]), [
        ["p5.48xlarge", "on-demand", 43.29, null],
        ["p5.48xlarge", "reserved", 27.45, null],
        ["g6e.xlarge", "spot", 0.549, "use1-az4"]
      ])
      assert.deepStrictEqual(catalog.offers[1]?.term, { years: 1, paymentOption: "all-upfront", offeringClass: "standard", upfrontUsd: 240462, recurringHourlyUsd: 0 })
      assert.deepStrictEqual(catalog.instanceTypes.map((t) => t.name).sort(), ["g6e.xlarge", "p5.48xlarge"])
      assert.isTrue(catalog.source.notes.some((note) => note.includes("enterprise discount 10%")))
    }))

  it.live("reports every bad row with its field path (exit 2)", () =>
    Effect.gen(function*() {
      const path = join(dir, "bad.json")
      yield* Effect.promise(() => writeFile(path, JSON.stringify({ offers: [
        { instanceType: "p5.48xlarge", region: "us-east-1", purchaseOption: "cheap", hourlyPriceUsd: -1 },
        { instanceType: "x9.huge", region: "us-east-1", purchaseOption: "on-demand", hourlyPriceUsd: 1 }
      ] })))
      const error = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog()).pipe(Effect.provide(layer(path)), Effect.flip)
      assert.strictEqual(error._tag, "InvalidInput")
      if (error._tag !== "InvalidInput") return
      assert.includeMembers(error.issues.map((i) => i.path), ["offers[0].purchaseOption", "offers[0].hourlyPriceUsd"])
    }))

  it.live("an unknown instance type is named", () =>
    Effect.gen(function*() {
      const path = join(dir, "unknown.json")
      yield* Effect.promise(() => writeFile(path, JSON.stringify({ offers: [{ instanceType: "x9.huge", region: "us-east-1", purchaseOption: "on-demand", hourlyPriceUsd: 1 }] })))
      const error = yield* Effect.flatMap(PriceCatalog, (c) => c.catalog()).pipe(Effect.provide(layer(path)), Effect.flip)
      assert.strictEqual(error._tag, "InvalidInput")
      if (error._tag === "InvalidInput") assert.deepStrictEqual(error.issues.map((i) => [i.path, i.actual]), [["offers[0].instanceType", "x9.huge"]])
    }))
})
