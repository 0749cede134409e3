/**
 * The rest of what the CLI does, through `Frugal.make()`: the spot-policy simulator, the waste report from the files
 * the AWS CLI printed, a service plan, the price refresh's checks, and catalogs given by name or as any layer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { InvalidInput } from "@frugal/core"
import { FileCatalog } from "@frugal/pricing"
import { Frugal, isFleetPlan } from "../src/index.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-sdk-operations-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))
const env = { ...process.env, FRUGAL_HOME: join(dir, "home") }

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected the promise to reject")
}

/** One zone, 1-hour ticks for 100 hours: spot up 3 hours in 4. */
const traceFile = (): string => {
  const path = join(dir, "zone-a_v100_1.csv")
  writeFileSync(path, ["timestamp,available,price", ...Array.from({ length: 100 }, (_, i) =>
    `${new Date(Date.UTC(2023, 1, 15) + i * 3_600_000).toISOString()},${i % 4 === 3 ? 0 : 1},0.9`)].join("\n"))
  return path
}

describe("Frugal operations", () => {
  it("simulates the spot policies: on-demand costs exactly on-demand, spot policies less, none misses a slack deadline", async () => {
    await using frugal = Frugal.make({ env })
    const report = await frugal.simulate({
      trace: traceFile(),
      policies: ["on-demand", "greedy", "frugal"],
      computeHours: 10,
      deadlineHours: 40,
      restartHours: 0.1,
      starts: 20,
      seed: 2
    })
    expect(report.settings).toMatchObject({ computeHours: 10, deadlineHours: 40, startsPerTrace: 20, seed: 2, optimal: null, zones: "single" })
    expect(Object.keys(report.policies)).toEqual(["on-demand", "greedy", "frugal"])
    expect(report.policies["on-demand"]).toMatchObject({ runs: 20, deadlineMisses: 0, meanSpotHours: 0 })
    expect(report.policies["on-demand"]?.meanCostNormalized).toBeCloseTo(1, 12)
    for (const name of ["greedy", "frugal"]) {
      expect(report.policies[name]?.deadlineMisses).toBe(0)
      expect(report.policies[name]?.meanCostNormalized).toBeLessThan(1)
    }
  })

  it("names every bad simulation setting by its SDK field", async () => {
    await using frugal = Frugal.make({ env })
    const error = await rejection(frugal.simulate({ trace: traceFile(), policies: "frugal,yolo", computeHours: 0, deadlineHours: 5, restartHours: -1 }))
    expect(error).toBeInstanceOf(InvalidInput)
    if (!(error instanceof InvalidInput)) return
    expect(error.issues.map((issue) => issue.path)).toEqual(["computeHours", "restartHours"])
    const policies = await rejection(frugal.simulate({ trace: traceFile(), policies: "frugal,yolo", computeHours: 1, deadlineHours: 5, restartHours: 0 }))
    if (policies instanceof InvalidInput) expect(policies.issues[0]).toMatchObject({ path: "policies", actual: "frugal,yolo" })
    else throw new Error("expected InvalidInput")
  })

  it("reports the example week's waste from the AWS CLI's files, as report --format json prints it", async () => {
    await using frugal = Frugal.make({ env })
    const report = await frugal.report({ ceFiles: example("waste/cost-explorer"), utilizationFile: example("waste/gpu-utilization.json") })
    expect(report.period).toEqual({ start: "2026-11-02", end: "2026-11-09" })
    expect(report.totalCostUsd).toBe(4614.56)
    expect(report.partial).toBe(false)
    expect(report.findings.map((finding) => finding.kind)).toContain("spot-eligible")
    const markdown = await frugal.renderReport("md", { ceFiles: [example("waste/cost-explorer")], utilizationFile: example("waste/gpu-utilization.json") })
    expect(markdown).toContain("$4,614.56")
  })

  it("plans a service: replicas, zones and its monthly cost", async () => {
    await using frugal = Frugal.make({ env })
    const plan = await frugal.service.plan(readFileSync(example("service-chat.yaml"), "utf8"), { source: "service-chat.yaml" })
    expect(plan.workload).toBe("chat-8b-service")
    // At least replicas.min, spread over at least zones.min zones, onDemandBase of them on demand.
    expect(plan.placements.atMin.replicas).toBeGreaterThanOrEqual(plan.service.replicas.min)
    expect(plan.placements.atMin.onDemand).toBeGreaterThanOrEqual(plan.service.onDemandBase)
    expect(new Set(plan.zones.map((zone) => zone.zone)).size).toBeGreaterThanOrEqual(plan.service.zones.min)
    expect(plan.placements.atTarget.monthlyCostUsd).toBeGreaterThan(0)
    expect(plan.catalog.source).toBe("embedded")
  })

  it("checks a price refresh before calling AWS, naming the field", async () => {
    await using frugal = Frugal.make({ env })
    const kinds = await rejection(frugal.refreshPrices({ regions: "us-east-1", kinds: "spot,gold" }))
    if (kinds instanceof InvalidInput) expect(kinds.issues[0]).toMatchObject({ path: "kinds", actual: "spot,gold" })
    else throw new Error("expected InvalidInput")
    const regions = await rejection(frugal.refreshPrices({ regions: ["us-east-1", "Mars"], kinds: ["spot"] }))
    if (regions instanceof InvalidInput) expect(regions.issues).toEqual([{ path: "regions", expected: "AWS region codes like us-east-1,eu-west-1", actual: "Mars" }])
    else throw new Error("expected InvalidInput")
  })

  it("takes a catalog by file path or as FileCatalog's layer, and plans on its rates", async () => {
    const path = join(dir, "rates.csv")
    writeFileSync(path, "instanceType,region,purchaseOption,hourlyPriceUsd,availabilityZone\ng5.xlarge,us-east-1,on-demand,0.75,\n")
    const workload = { name: "small", kind: "batch", batch: { gpuHours: 3, referenceGpu: "A10G" } }
    for (const catalog of [path, FileCatalog.layer(path)]) {
      await using frugal = Frugal.make({ env, catalog })
      const plan = await frugal.plan(workload)
      if (isFleetPlan(plan)) throw new Error("expected a single plan")
      expect(plan.options[0]).toMatchObject({ instanceType: "g5.xlarge", purchaseOption: "on-demand", hourlyPriceUsd: 0.75 })
      expect(plan.catalog.source).toBe("file")
    }
  })
})
