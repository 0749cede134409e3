/**
 * Live AWS pricing end to end, through the real `frugal` process and the real AWS SDK clients against a
 * loopback AWS (packages/pricing/test/support/FakeAws.ts): `prices refresh` fills the cache, `plan
 * --catalog aws` prices with it, a price changed on the server shows up in the plan after the next
 * refresh, and with the server gone the plan still answers, from the cache or the embedded snapshot,
 * and says which.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeAws, fakeAwsClientEnvironment, type ProductFixture, standardRegion, startFakeAws } from "../packages/pricing/test/support/FakeAws.ts"
import { example, runFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-live-pricing-"))
const cacheDir = join(dir, "cache")
let fake: FakeAws

const awsEnv = (endpoint: string, cache = cacheDir): Record<string, string> => ({
  ...fakeAwsClientEnvironment(endpoint),
  FRUGAL_CACHE_DIR: cache,
  XDG_CONFIG_HOME: join(dir, "config")
})

interface PlanOption {
  readonly instanceType: string
  readonly purchaseOption: string
  readonly hourlyPriceUsd: number
  readonly term?: { readonly years: number } | null
  readonly breakEvenUtilization?: number | null
}
interface PlanJson {
  readonly options: ReadonlyArray<PlanOption>
  readonly catalog: { readonly source: string; readonly asOf: string; readonly description: string; readonly notes: ReadonlyArray<string> }
}

const plan = async (env: Record<string, string>): Promise<PlanJson> => {
  const run = await runFrugal(["plan", example("inference-24x7.yaml"), "--catalog", "aws", "--json", "--top", "100"], { env })
  expect(run.stderr).not.toMatch(/^\s+at\s/m)
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as PlanJson
}

const onDemandPrice = (json: PlanJson, instanceType: string) =>
  json.options.find((option) => option.instanceType === instanceType && option.purchaseOption === "on-demand")?.hourlyPriceUsd

beforeAll(async () => {
  fake = await startFakeAws(new Map([["us-east-1", standardRegion("us-east-1")]]))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("frugal prices refresh and plan --catalog aws", () => {
  it("refresh fills the cache and the plan prices with the refreshed data, commitments with exact rates", async () => {
    const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--json"], { env: awsEnv(fake.url) })
    expect(refresh.code).toBe(0)
    const summary = JSON.parse(refresh.stdout) as { regions: ReadonlyArray<{ region: string; offers: number; failures: ReadonlyArray<string> }> }
    expect(summary.regions).toEqual([expect.objectContaining({ region: "us-east-1", offers: 45, failures: [] })])
    expect(refresh.stderr).toMatch(/us-east-1 on-demand: 5 item\(s\)/)
    expect(existsSync(join(cacheDir, "aws", "us-east-1", "on-demand.json"))).toBe(true)

    const json = await plan(awsEnv(fake.url))
    expect(json.catalog.source).toBe("cache")
    expect(onDemandPrice(json, "p4d.24xlarge")).toBe(21.9576)
    // A 24/7 service compares on-demand with 1- and 3-year commitments, each with its break-even utilisation.
    const p4d = json.options.filter((option) => option.instanceType === "p4d.24xlarge")
    const reserved = p4d.filter((option) => option.purchaseOption === "reserved")
    expect(new Set(reserved.map((option) => option.term?.years))).toEqual(new Set([1, 3]))
    const allUpfront = reserved.find((option) => option.term?.years === 1 && option.hourlyPriceUsd < 13.2)
    expect(allUpfront?.hourlyPriceUsd).toBeCloseTo(Math.round(21.9576 * 0.6 * 8760) / 8760, 5)
    expect(reserved.every((option) => typeof option.breakEvenUtilization === "number")).toBe(true)
  }, 120_000)

  it("a price changed on the server changes the plan after the next refresh", async () => {
    const region = fake.regions.get("us-east-1")
    if (region === undefined) throw new Error("fixture missing")
    region.products = region.products.map((product): ProductFixture | string =>
      typeof product !== "string" && product.instanceType === "p4d.24xlarge" ? { ...product, onDemandUsd: 30.5 } : product
    )
    const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--kinds", "on-demand"], { env: awsEnv(fake.url) })
    expect(refresh.code).toBe(0)
    expect(refresh.stdout).toMatch(/us-east-1\s+45\s/)
    expect(onDemandPrice(await plan(awsEnv(fake.url)), "p4d.24xlarge")).toBe(30.5)
  }, 120_000)

  it("a region that keeps failing makes refresh exit 4 naming the region and call", async () => {
    fake.setFault((_request, operation) => (operation === "GetProducts" ? { status: 500, body: "{\"__type\":\"InternalFailure\"}" } : undefined))
    const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--kinds", "on-demand"], { env: awsEnv(fake.url) })
    fake.setFault(undefined)
    expect(refresh.code).toBe(4)
    expect(refresh.stderr).toMatch(/AWS Pricing GetProducts in us-east-1 failed/)
    expect(refresh.stderr).not.toMatch(/^\s+at\s/m)
  }, 120_000)

  it("keeps what it fetched when one kind is missing for a region: exit 5 naming the region, kind and why", async () => {
    // AWS publishes no Compute Savings Plans price list for the region: the other kinds must still be cached.
    fake.setFault((_request, operation) =>
      operation === "ListPriceLists"
        ? { status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ PriceLists: [] }) }
        : undefined
    )
    const partialCache = join(dir, "partial-cache")
    const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--json"], { env: awsEnv(fake.url, partialCache) })
    fake.setFault(undefined)
    expect(refresh.code).toBe(5)
    expect(refresh.stderr).toMatch(/the refresh is partial/)
    expect(refresh.stderr).toMatch(/us-east-1 savings-plan .*no AWSComputeSavingsPlan price list in JSON for us-east-1; everything else is cached and used/)
    expect(refresh.stderr).not.toMatch(/^\s+at\s/m)
    const summary = JSON.parse(refresh.stdout) as {
      status: string
      regions: ReadonlyArray<{ region: string; items: Record<string, number>; notRefreshed: ReadonlyArray<{ kind: string; reason: string }> }>
    }
    expect(summary.status).toBe("partial")
    expect(summary.regions[0]?.notRefreshed.map((failure) => failure.kind)).toEqual(["savings-plan"])
    expect(summary.regions[0]?.items["on-demand"]).toBe(5)
    expect(existsSync(join(partialCache, "aws", "us-east-1", "on-demand.json"))).toBe(true)
    expect(existsSync(join(partialCache, "aws", "us-east-1", "savings-plan.json"))).toBe(false)

    // The plan uses the refreshed prices and says where savings-plan rates came from instead.
    fake.setFault((_request, operation) =>
      operation === "ListPriceLists"
        ? { status: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify({ PriceLists: [] }) }
        : undefined
    )
    const json = await plan(awsEnv(fake.url, partialCache))
    fake.setFault(undefined)
    expect(json.catalog.source).toBe("cache")
    expect(onDemandPrice(json, "p4d.24xlarge")).toBe(30.5)
    expect(json.catalog.notes.join("\n")).toMatch(/savings-plan not refreshed|no Compute Savings Plans price list/)
  }, 120_000)

  it("with the server gone, plan answers from the cache, else from the embedded snapshot, and says so", async () => {
    await fake.close()
    const fromCache = await plan(awsEnv(fake.url))
    expect(fromCache.catalog.source).toBe("cache")
    expect(onDemandPrice(fromCache, "p4d.24xlarge")).toBe(30.5)

    const fromSnapshot = await plan(awsEnv(fake.url, join(dir, "empty-cache")))
    expect(fromSnapshot.catalog.source).toBe("embedded")
    expect(fromSnapshot.catalog.notes.join("\n")).toMatch(/AWS unreachable for [^\n]*(us-east-1|all [0-9]+ regions)[^\n]*ECONNREFUSED/)
    expect(fromSnapshot.options.length).toBeGreaterThan(0)
  }, 120_000)
})
