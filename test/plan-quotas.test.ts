/**
 * `frugal plan --infra` held to the account's EC2 vCPU quotas, through the real `frugal` process and the real AWS
 * SDK clients against a loopback AWS that answers Pricing, EC2 and Service Quotas in their wire formats
 * (packages/pricing/test/support/FakeAws.ts): with `--catalog aws` the plan asks Service Quotas for the profile's
 * regions, marks each option with the quota it counts against and ranks those above it last, naming the code; the
 * quotas are cached for six hours, and `prices refresh --kinds quotas` refreshes them at once. With the embedded
 * catalog the plan asks nothing of AWS and says that quotas were not checked. `Frugal.make({ catalog: "aws" }).plan`
 * does the same as the command, in this process, against the same loopback AWS.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { EmbeddedCatalog, FLEET_QUOTAS_NOTE, Frugal, isFleetPlan } from "@frugal/sdk"
import { type FakeAws, fakeAwsClientEnvironment, standardRegion, startFakeAws } from "../packages/pricing/test/support/FakeAws.ts"
import { example, runFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-plan-quotas-"))
const cacheDir = join(dir, "cache")
const profile = join(dir, "infra.yaml")
let fake: FakeAws

// P: 192 vCPUs on demand (one p5.48xlarge, not two), none on spot; G and VT: plenty of both.
const P_ON_DEMAND = "L-417A185B"
const P_SPOT = "L-7212CCBC"
const QUOTAS = { [P_ON_DEMAND]: 192, [P_SPOT]: 0, "L-DB2E81BA": 4096, "L-3819A6DF": 4096 }

const env = (cache = cacheDir): Record<string, string> => ({
  ...fakeAwsClientEnvironment(fake.url),
  FRUGAL_CACHE_DIR: cache,
  FRUGAL_HOME: join(dir, "home"),
  FRUGAL_INFRA: "",
  XDG_CONFIG_HOME: join(dir, "config")
})

interface PlanJson {
  readonly options: ReadonlyArray<{
    readonly instanceType: string
    readonly instanceCount: number
    readonly purchaseOption: string
    readonly reason: string
    readonly quota?: { readonly code: string; readonly limitVcpus: number; readonly neededVcpus: number; readonly fits: boolean }
  }>
  readonly notes: ReadonlyArray<string>
}

const plan = async (catalog: string, cache = cacheDir): Promise<PlanJson> => {
  const run = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--infra", profile, "--catalog", catalog, "--json", "--top", "200"], {
    env: env(cache)
  })
  expect(run.stderr).not.toMatch(/^\s+at\s/m)
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as PlanJson
}

const quotaCalls = () => fake.calls.filter((call) => call.startsWith("GetServiceQuota"))

beforeAll(async () => {
  fake = await startFakeAws(new Map([["us-east-1", { ...standardRegion("us-east-1"), quotas: { ...QUOTAS } }]]))
  writeFileSync(profile, [
    "aws:",
    "  regions:",
    "    us-east-1:",
    "      subnets: { use1-az1: subnet-0a1b2c3d4e5f60001, use1-az2: subnet-0a1b2c3d4e5f60002, use1-az3: subnet-0a1b2c3d4e5f60003 }",
    "      image: ami-0123456789abcdef0",
    ""
  ].join("\n"))
  const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1"], { env: env() })
  expect(refresh.code).toBe(0)
}, 120_000)

afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("frugal plan --infra and the account's EC2 quotas", () => {
  it("with --catalog aws, marks every option with its quota and ranks those above it last, naming the code", async () => {
    const json = await plan("aws")
    expect(quotaCalls().length).toBeGreaterThan(0)
    const p5 = json.options.filter((option) => option.instanceType === "p5.48xlarge")
    const spot = p5.find((option) => option.purchaseOption === "spot")
    expect(spot?.quota).toEqual(expect.objectContaining({ code: P_SPOT, limitVcpus: 0, fits: false }))
    expect(spot?.reason).toMatch(/^above quota L-7212CCBC \(All P Spot Instance Requests: 0 vCPUs in us-east-1, needs \d+\)/)
    const twoOnDemand = p5.find((option) => option.purchaseOption === "on-demand" && option.instanceCount === 2)
    expect(twoOnDemand?.quota).toEqual(expect.objectContaining({ code: P_ON_DEMAND, limitVcpus: 192, neededVcpus: 384, fits: false }))
    // Everything that fits first (the recommendation among it), everything above quota after.
    const fits = json.options.map((option) => option.quota?.fits !== false)
    expect(fits[0]).toBe(true)
    expect(fits.indexOf(false)).toBeGreaterThan(0)
    expect(fits.slice(fits.indexOf(false)).every((fit) => !fit)).toBe(true)
    expect(json.options.some((option) => option.instanceType.startsWith("g") && option.quota?.fits === true)).toBe(true)
    // Cached like prices, in the cache the run reads too.
    const cached = JSON.parse(readFileSync(join(cacheDir, "aws", "us-east-1", "quotas.json"), "utf8")) as { readonly data: ReadonlyArray<{ readonly code: string }> }
    expect(cached.data.map((quota) => quota.code)).toContain(P_SPOT)
  }, 120_000)

  it("answers a raised quota from its six-hour cache until prices refresh --kinds quotas fetches it", async () => {
    const region = fake.regions.get("us-east-1")
    if (region === undefined) throw new Error("fixture missing")
    region.quotas = { ...QUOTAS, [P_SPOT]: 4096 }
    const before = quotaCalls().length
    const cachedPlan = await plan("aws")
    expect(quotaCalls().length).toBe(before)
    expect(cachedPlan.options.find((option) => option.instanceType === "p5.48xlarge" && option.purchaseOption === "spot")?.quota?.fits).toBe(false)

    const refresh = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--kinds", "quotas"], { env: env() })
    expect(refresh.stderr).not.toMatch(/^\s+at\s/m)
    expect(refresh.code).toBe(0)
    expect(refresh.stderr).toMatch(/us-east-1 quotas: 4 item\(s\)/)
    expect(refresh.stdout).toMatch(/EC2 vCPU quotas: 4 cached/)
    // Only Service Quotas was asked: no price was fetched again.
    expect(fake.calls.slice(-14).every((call) => call.startsWith("GetServiceQuota"))).toBe(true)

    const refreshed = await plan("aws")
    expect(refreshed.options.find((option) => option.instanceType === "p5.48xlarge" && option.purchaseOption === "spot")?.quota)
      .toEqual(expect.objectContaining({ code: P_SPOT, limitVcpus: 4096, fits: true }))
  }, 120_000)

  it("says in the plan's notes which region's quotas it could not have, and keeps the plan", async () => {
    fake.setFault((_request, operation) => (operation === "GetServiceQuota" ? { status: 500, body: "{\"__type\":\"ServiceException\"}" } : undefined))
    const json = await plan("aws", join(dir, "cold-cache"))
    fake.setFault(undefined)
    expect(json.notes.join("\n")).toMatch(/EC2 quotas in us-east-1 unknown: AWS ServiceQuotas GetServiceQuota in us-east-1 failed/)
    expect(json.options.every((option) => option.quota === undefined)).toBe(true)
  }, 120_000)

  it("with the embedded catalog, stays offline and says the quotas were not checked", async () => {
    const before = fake.calls.length
    const json = await plan("embedded", join(dir, "offline-cache"))
    expect(fake.calls.length).toBe(before)
    expect(existsSync(join(dir, "offline-cache", "aws"))).toBe(false)
    expect(json.notes).toContain(
      "EC2 vCPU quotas were not checked: the embedded catalog works offline (with --catalog aws the plan asks Service Quotas for the profile's regions, cached 6 h; frugal prices refresh --kinds quotas refreshes them)."
    )
    expect(json.options.every((option) => option.quota === undefined)).toBe(true)
  }, 120_000)

  it("notes in each fleet member's plan that its quotas were not checked, and asks none", async () => {
    const before = quotaCalls().length
    const run = await runFrugal(["plan", example("fleet.yaml"), "--infra", profile, "--catalog", "aws", "--json"], { env: env() })
    expect(run.stderr).not.toMatch(/^\s+at\s/m)
    const fleet = JSON.parse(run.stdout) as { readonly workloads: ReadonlyArray<{ readonly status: string; readonly notes?: ReadonlyArray<string> }> }
    const placed = fleet.workloads.filter((member) => member.status === "ok")
    expect(placed.length).toBeGreaterThan(0)
    for (const member of placed) expect(member.notes).toContain(FLEET_QUOTAS_NOTE)
    expect(quotaCalls().length).toBe(before)
  }, 120_000)

  it("Frugal.make({ catalog: 'aws' }).plan holds the plan to the same quotas as the command; a catalog layer says none were given", async () => {
    const saved = { ...process.env }
    Object.assign(process.env, env(join(dir, "sdk-cache")))
    try {
      const spec = readFileSync(example("llama-7b-finetune.yaml"), "utf8")
      const before = quotaCalls().length
      await using live = Frugal.make({ catalog: "aws", env: env(join(dir, "sdk-cache")), calibration: false })
      const planned = await live.plan(spec, { infra: profile, top: 200 })
      if (isFleetPlan(planned)) throw new Error("expected one workload's plan")
      expect(quotaCalls().length).toBeGreaterThan(before)
      // A cold cache: the spot quota as the account has it now (raised above), the on-demand one still 192 vCPUs.
      const p5 = planned.options.filter((option) => option.instanceType === "p5.48xlarge")
      expect(p5.find((option) => option.purchaseOption === "spot")?.quota).toEqual(expect.objectContaining({ code: P_SPOT, limitVcpus: 4096, fits: true }))
      const twoOnDemand = p5.find((option) => option.purchaseOption === "on-demand" && option.instanceCount === 2)
      expect(twoOnDemand?.quota).toEqual(expect.objectContaining({ code: P_ON_DEMAND, limitVcpus: 192, neededVcpus: 384, fits: false }))
      expect(twoOnDemand?.reason).toMatch(/^above quota L-417A185B /)
      const fits = planned.options.map((option) => option.quota?.fits !== false)
      expect(fits.slice(fits.indexOf(false)).every((fit) => !fit)).toBe(true)

      const asked = quotaCalls().length
      await using layered = Frugal.make({ catalog: EmbeddedCatalog.layer, env: env(join(dir, "sdk-cache")), calibration: false })
      const offline = await layered.plan(spec, { infra: profile })
      if (isFleetPlan(offline)) throw new Error("expected one workload's plan")
      expect(quotaCalls().length).toBe(asked)
      expect(offline.notes.join("\n")).toMatch(/EC2 vCPU quotas were not checked: no quota source was given/)
      expect(offline.options.every((option) => option.quota === undefined)).toBe(true)
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
      Object.assign(process.env, saved)
    }
  }, 120_000)

  it("refuses an unknown kind naming the quotas kind among those it takes", async () => {
    const run = await runFrugal(["prices", "refresh", "--regions", "us-east-1", "--kinds", "quota"], { env: env() })
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--kinds: expected a comma-separated list of on-demand, reserved, savings-plan, spot, scores, quotas, got quota$/m)
  }, 60_000)
})
