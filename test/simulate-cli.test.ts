/**
 * `frugal simulate` through the real process: the JSON contract of ARCHITECTURE.md, the table,
 * CSV traces with prices in several zones, and exit 2 naming a bad flag.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runFrugal } from "./support/frugalCli.ts"

/** Two zones of one instance type, 1-hour ticks, 200 ticks, the second zone cheaper and steadier. */
const traceDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "frugal-simulate-"))
  const csv = (available: (i: number) => number, price: number) =>
    ["timestamp,available,price", ...Array.from({ length: 200 }, (_, i) =>
      `${new Date(Date.UTC(2023, 1, 15) + i * 3_600_000).toISOString()},${available(i)},${price}`)].join("\n")
  writeFileSync(join(dir, "zone-a_v100_1.csv"), csv((i) => (i % 7 < 4 ? 1 : 0), 1.2))
  writeFileSync(join(dir, "zone-b_v100_1.csv"), csv((i) => (i % 11 < 8 ? 1 : 0), 0.9))
  return dir
}

const flags = ["--compute-hours", "20", "--deadline-hours", "30", "--restart-hours", "0.5", "--starts", "25", "--seed", "3"]

describe("frugal simulate", () => {
  it("--json prints settings and, per policy, runs, misses, normalised cost and hours", async () => {
    const run = await runFrugal(["simulate", "--trace", traceDir(), "--zones", "multi", "--policy", "greedy,frugal,optimal", ...flags, "--json"])
    expect(run.code).toBe(0)
    const output: unknown = JSON.parse(run.stdout)
    expect(output).toMatchObject({
      settings: { zones: "multi", computeHours: 20, deadlineHours: 30, restartHours: 0.5, startsPerTrace: 25, seed: 3 },
      policies: {}
    })
    const policies = typeof output === "object" && output !== null ? Reflect.get(output, "policies") : undefined
    expect(Object.keys(policies ?? {})).toEqual(["greedy", "frugal", "optimal"])
    for (const name of ["greedy", "frugal", "optimal"]) {
      const summary: unknown = Reflect.get(policies ?? {}, name)
      expect(summary).toEqual({
        runs: 25,
        deadlineMisses: 0,
        meanCostNormalized: expect.any(Number),
        meanOnDemandHours: expect.any(Number),
        meanSpotHours: expect.any(Number),
        p50CostNormalized: expect.any(Number),
        p90CostNormalized: expect.any(Number)
      })
    }
    const cost = (name: string): number => Number(Reflect.get(Reflect.get(policies ?? {}, name) ?? {}, "meanCostNormalized"))
    expect(cost("optimal")).toBeLessThanOrEqual(cost("frugal"))
    expect(cost("frugal")).toBeLessThan(1)
  })

  it("prints an aligned table by default", async () => {
    const run = await runFrugal(["simulate", "--trace", traceDir(), "--policy", "on-demand,uniform-progress", ...flags])
    expect(run.code).toBe(0)
    const lines = run.stdout.split("\n")
    const header = lines.find((line) => line.startsWith("POLICY"))
    expect(header).toMatch(/POLICY\s+RUNS\s+MISSES\s+COST\/OD\s+P50\s+P90\s+OD h\s+SPOT h/)
    const onDemand = lines.find((line) => line.startsWith("on-demand"))
    expect(onDemand).toMatch(/on-demand\s+50\s+0\s+1\.000\s+1\.000\s+1\.000\s+20\.0\s+0\.0/)
    expect(onDemand?.length).toBe(header?.length)
  })

  it("exits 2 naming the flag for an unknown policy and for a deadline shorter than the job", async () => {
    const policy = await runFrugal(["simulate", "--trace", traceDir(), "--policy", "greedy,fancy", ...flags])
    expect(policy.code).toBe(2)
    expect(policy.stderr).toContain("--policy")
    const deadline = await runFrugal(["simulate", "--trace", traceDir(), "--compute-hours", "20", "--deadline-hours", "10", "--restart-hours", "0.5"])
    expect(deadline.code).toBe(2)
    expect(deadline.stderr).toContain("--deadline-hours")
  })
})
