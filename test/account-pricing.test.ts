/**
 * Account pricing (`pricing.yaml`) through the real `frugal` process: applied the same way to the embedded
 * snapshot and to a catalog file, from `--pricing-config`, `FRUGAL_PRICING_CONFIG` or the XDG default, and
 * named in every plan (text and JSON). List prices of the embedded snapshot: p5.48xlarge in us-east-1
 * on-demand $55.04/h.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { example, runFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-account-pricing-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const config = write("pricing.yaml", "enterpriseDiscountPct: 10\nprivateRates:\n  p5: { discountPct: 20 }\nspotDiscountCapPct: 50\n")
/** An empty XDG config directory, so the machine's own pricing.yaml never leaks into a test. */
const noConfig = { XDG_CONFIG_HOME: join(dir, "empty-xdg"), FRUGAL_PRICING_CONFIG: "" }

interface PriceRow {
  readonly instanceType: string
  readonly onDemandHourlyUsd: number | null
  readonly spot: { readonly hourlyPriceUsd: number } | null
}
interface GpusJson {
  readonly catalog: { readonly description: string; readonly notes: ReadonlyArray<string> }
  readonly instances: ReadonlyArray<PriceRow>
}

const p5 = async (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = noConfig): Promise<{ row: PriceRow; report: GpusJson }> => {
  const run = await runFrugal(["gpus", "--gpu", "H100", "--region", "us-east-1", "--json", ...args], { env })
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  const report = JSON.parse(run.stdout) as GpusJson
  const row = report.instances.find((r) => r.instanceType === "p5.48xlarge")
  if (row === undefined) throw new Error("no p5.48xlarge row")
  return { row, report }
}

describe.concurrent("account pricing on every catalog", () => {
  it("the embedded snapshot gets the private rate then the enterprise discount, and says so", async () => {
    const list = await p5([])
    expect(list.row.onDemandHourlyUsd).toBe(55.04)
    expect(list.report.catalog.notes.some((note) => note.startsWith("Account pricing"))).toBe(false)

    const priced = await p5(["--pricing-config", config])
    // 55.04 × (1 − 20%) × (1 − 10%)
    expect(priced.row.onDemandHourlyUsd).toBe(39.6288)
    // The spot cap: spot counted at no less than half the account's on-demand price.
    expect(priced.row.spot?.hourlyPriceUsd).toBe(19.8144)
    expect(priced.report.catalog.description).toMatch(/with account pricing applied$/)
    expect(priced.report.catalog.notes).toContain(
      `Account pricing from ${config} applied on top of list prices: private rates for p5 (-20%); enterprise discount 10% on every price; spot counted at most 50% below on-demand.`
    )
  })

  it("reads FRUGAL_PRICING_CONFIG, then $XDG_CONFIG_HOME/frugal/pricing.yaml; --pricing-config wins over both", async () => {
    const fromEnv = await p5([], { ...noConfig, FRUGAL_PRICING_CONFIG: config })
    expect(fromEnv.row.onDemandHourlyUsd).toBe(39.6288)

    const xdg = join(dir, "xdg")
    mkdirSync(join(xdg, "frugal"), { recursive: true })
    writeFileSync(join(xdg, "frugal", "pricing.yaml"), "enterpriseDiscountPct: 50\n")
    const fromXdg = await p5([], { XDG_CONFIG_HOME: xdg, FRUGAL_PRICING_CONFIG: "" })
    expect(fromXdg.row.onDemandHourlyUsd).toBe(27.52)

    const flagWins = await p5(["--pricing-config", config], { XDG_CONFIG_HOME: xdg, FRUGAL_PRICING_CONFIG: join(dir, "absent.yaml") })
    expect(flagWins.row.onDemandHourlyUsd).toBe(39.6288)
  })

  it("a catalog file goes through the same code, once", async () => {
    const rates = write("rates.csv", "instanceType,region,purchaseOption,hourlyPriceUsd\np5.48xlarge,us-east-1,on-demand,48.10\n")
    const { row, report } = await p5(["--catalog", rates, "--pricing-config", config])
    // 48.10 × 0.8 × 0.9, not discounted a second time.
    expect(row.onDemandHourlyUsd).toBe(34.632)
    expect(report.catalog.notes.filter((note) => note.startsWith("Account pricing"))).toHaveLength(1)
  })

  it("every plan shows the discounts: a single plan and a fleet, text and JSON", async () => {
    const single = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--pricing-config", config], { env: noConfig })
    expect(single.code).toBe(0)
    expect(single.stdout).toContain(`Note: Account pricing from ${config} applied on top of list prices: private rates for p5 (-20%)`)
    expect(single.stdout).toMatch(/^Prices: .*with account pricing applied, as of /m)

    const fleet = await runFrugal(["plan", example("fleet.yaml"), "--pricing-config", config], { env: noConfig })
    expect(fleet.code).toBe(0)
    expect(fleet.stdout).toContain(`Note: Account pricing from ${config} applied on top of list prices`)

    const json = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--json"], { env: { ...noConfig, FRUGAL_PRICING_CONFIG: config } })
    const plan = JSON.parse(json.stdout) as { catalog: { notes: ReadonlyArray<string> } }
    expect(plan.catalog.notes.some((note) => note.startsWith(`Account pricing from ${config}`))).toBe(true)
  })

  it("a missing or bad pricing config is bad input (exit 2) naming where it came from", async () => {
    const missing = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--pricing-config", join(dir, "nope.yaml")], { env: noConfig })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("--pricing-config")
    expect(missing.stderr).toContain("nope.yaml")

    const fromEnv = await runFrugal(["gpus"], { env: { ...noConfig, FRUGAL_PRICING_CONFIG: join(dir, "nope.yaml") } })
    expect(fromEnv.code).toBe(2)
    expect(fromEnv.stderr).toContain("FRUGAL_PRICING_CONFIG")

    const bad = write("bad.yaml", "enterpriseDiscountPct: 140\n")
    const invalid = await runFrugal(["gpus", "--pricing-config", bad], { env: noConfig })
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toContain("enterpriseDiscountPct: expected a percentage between 0 and 100, got 140")
  })
})
