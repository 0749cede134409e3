/**
 * `frugal plan --catalog aws` with an empty cache asks AWS only about the regions the workload names
 * (`constraints.regions`; for a fleet, the union), not about every region: the real `frugal` process and
 * the real SDK clients against the loopback AWS (packages/pricing/test/support/FakeAws.ts), which records
 * every operation with the region it was asked for.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeAws, fakeAwsClientEnvironment, standardRegion, startFakeAws } from "../packages/pricing/test/support/FakeAws.ts"
import { runFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-catalog-query-"))
let fake: FakeAws

const awsEnv = (cache: string): Record<string, string> => ({
  ...fakeAwsClientEnvironment(fake.url),
  FRUGAL_CACHE_DIR: join(dir, cache),
  XDG_CONFIG_HOME: join(dir, "config")
})

const job = (name: string, regions: ReadonlyArray<string>): string =>
  [
    `- name: ${name}`,
    "  kind: training",
    "  model: { parameters: 1B, precision: bf16 }",
    "  training: { tokens: 2B, sequenceLength: 2048 }",
    "  resources: { accelerators: [A10G, L4] }",
    `  constraints: { deadlineHours: 200, regions: [${regions.join(", ")}] }`
  ].join("\n")

const write = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** The regions EC2 and the Pricing API were asked about (`GetProducts us-east-1` → us-east-1; `-` for none). */
const regionsCalled = (calls: ReadonlyArray<string>): ReadonlyArray<string> =>
  [...new Set(calls.map((call) => call.split(" ").at(-1) ?? "-").filter((region) => region !== "-"))].sort()

beforeAll(async () => {
  fake = await startFakeAws(new Map(["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"].map((r) => [r, standardRegion(r)])))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("plan --catalog aws asks only for what the workload can use", () => {
  it("a workload naming two regions fetches those two, and plans from them", async () => {
    fake.calls.length = 0
    const file = write("two-regions.yaml", job("small", ["us-west-2", "eu-west-1"]).replace(/^- |^ {2}/gm, ""))
    const run = await runFrugal(["plan", file, "--catalog", "aws", "--json", "--top", "50"], { env: awsEnv("cache-single") })
    expect(run.stderr).not.toMatch(/^\s+at\s/m)
    expect(run.code).toBe(0)
    expect(regionsCalled(fake.calls)).toEqual(["eu-west-1", "us-west-2"])
    // EC2 was asked in each named region, and the price list for each.
    expect(new Set(fake.calls.filter((call) => call.startsWith("DescribeSpotPriceHistory ")).map((call) => call.split(" ")[1])))
      .toEqual(new Set(["eu-west-1", "us-west-2"]))
    expect(new Set(fake.calls.filter((call) => call.startsWith("GetProducts ")).map((call) => call.split(" ")[1])))
      .toEqual(new Set(["eu-west-1", "us-west-2"]))
    const plan = JSON.parse(run.stdout) as { options: ReadonlyArray<{ region: string; instanceType: string }>; catalog: { source: string } }
    expect(plan.catalog.source).toBe("aws")
    expect(plan.options.length).toBeGreaterThan(0)
    expect(plan.options.filter((option) => option.region !== "us-west-2" && option.region !== "eu-west-1")).toEqual([])
    expect(plan.options.every((option) => /^(g5|g6)\./.test(option.instanceType))).toBe(true)
  }, 120_000)

  it("a fleet fetches the union of its members' regions", async () => {
    fake.calls.length = 0
    const file = write("fleet.yaml", `workloads:\n${job("east", ["us-east-1"])}\n${job("tokyo", ["ap-northeast-1"])}\n`)
    const run = await runFrugal(["plan", file, "--catalog", "aws", "--json"], { env: awsEnv("cache-fleet") })
    expect(run.stderr).not.toMatch(/^\s+at\s/m)
    expect(run.code).toBe(0)
    expect(regionsCalled(fake.calls)).toEqual(["ap-northeast-1", "us-east-1"])
  }, 120_000)
})
