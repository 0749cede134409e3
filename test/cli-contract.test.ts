/**
 * The CLI contract of ARCHITECTURE.md, checked through the real `frugal` process: the JSON shapes
 * scripts rely on, `--top`, standard input, `--version`, help, where output goes, and that
 * `FRUGAL_DEBUG=1` is the only way to see a stack trace.
 */
import { describe, expect, it } from "vitest"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

const parse = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text)
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${text.slice(0, 80)}`)
  return { ...value }
}

describe.concurrent("frugal CLI contract", () => {
  it("--version prints the version on stdout and exits 0", async () => {
    const run = await runFrugal(["--version"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^frugal v\d+\.\d+\.\d+/)
  })

  it("--help lists plan, estimate and gpus", async () => {
    const run = await runFrugal(["--help"])
    expect(run.code).toBe(0)
    for (const command of ["plan", "estimate", "gpus"]) expect(run.stdout).toContain(command)
  })

  it("plan --json has workload, requirements, options with every contract field, and catalog", async () => {
    const run = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--json", "--top", "3"])
    expect(run.code).toBe(0)
    const plan = parse(run.stdout)
    expect(plan["workload"]).toBe("llama-7b-finetune")
    expect(plan["requirements"]).toMatchObject({ memoryGiB: expect.any(Number), minGpus: expect.any(Number) })
    expect(plan["catalog"]).toMatchObject({ source: "embedded", asOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}/) })
    const options = plan["options"]
    expect(Array.isArray(options) ? options.length : -1).toBe(3)
    for (const option of Array.isArray(options) ? options : []) {
      expect(option).toMatchObject({
        instanceType: expect.any(String),
        gpu: expect.any(String),
        gpusPerInstance: expect.any(Number),
        instanceCount: expect.any(Number),
        region: expect.any(String),
        purchaseOption: expect.stringMatching(/^(spot|on-demand|reserved|savings-plan)$/),
        hourlyPriceUsd: expect.any(Number),
        expectedHours: expect.any(Number),
        expectedCostUsd: expect.any(Number),
        meetsDeadline: expect.any(Boolean)
      })
      expect(option).toHaveProperty("availabilityZone")
      expect(option).toHaveProperty("interruptionRisk")
      expect(option).toHaveProperty("checkpointEveryMinutes")
    }
  })

  it("plan --top N shows N options in the table", async () => {
    const run = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--top", "2"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Top 2 of [\d,]+ placements priced/)
    expect(run.stdout).toMatch(/^2 {2}/m)
    expect(run.stdout).not.toMatch(/^3 {2}/m)
  })

  it("plan reads the spec from standard input with -", async () => {
    const run = await runFrugal(["plan", "-", "--json", "--top", "1"], {
      stdin: "name: piped\nkind: batch\nbatch:\n  gpuHours: 20\n  referenceGpu: T4\n"
    })
    expect(run.code).toBe(0)
    expect(parse(run.stdout)["workload"]).toBe("piped")
  })

  it("estimate --json has memory.perGpuGiB and compute.byAccelerator.<name>.{tokensPerSecondPerGpu,gpus,hours}", async () => {
    const run = await runFrugal(["estimate", example("llama-7b-finetune.yaml"), "--json"])
    expect(run.code).toBe(0)
    const estimate = parse(run.stdout)
    expect(estimate["memory"]).toMatchObject({
      perGpuGiB: expect.any(Number),
      weightsGiB: expect.any(Number),
      gradientsGiB: expect.any(Number),
      optimizerGiB: expect.any(Number),
      activationsGiB: expect.any(Number)
    })
    expect(estimate["compute"]).toMatchObject({
      flops: expect.any(Number),
      byAccelerator: expect.objectContaining({
        H100: expect.objectContaining({ tokensPerSecondPerGpu: expect.any(Number), gpus: expect.any(Number), hours: expect.any(Number) })
      })
    })
  })

  it("estimate on a fleet gives one estimate per workload", async () => {
    const run = await runFrugal(["estimate", example("fleet.yaml"), "--json"])
    expect(run.code).toBe(0)
    const workloads = parse(run.stdout)["workloads"]
    expect(Array.isArray(workloads) ? workloads.length : 0).toBe(3)
  })

  it("gpus lists instances with on-demand and cheapest spot prices, the region and the catalog date", async () => {
    const run = await runFrugal(["gpus", "--gpu", "A10G"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^INSTANCE +GPU +GPU MEM +vCPU +RAM +ON-DEMAND +SPOT +SAVING +SPOT AZ +INTERRUPTIONS$/m)
    expect(run.stdout).toMatch(/^g5\.xlarge +A10G ×1 +[\d.]+ GiB +4 +16 GiB +\$\d+\.\d+\/h +\$\d+\.\d+\/h +\d+% +use1-az\d/m)
    expect(run.stdout).toContain("in us-east-1")
    expect(run.stdout).toMatch(/as of \d{4}-\d{2}-\d{2}/)
  })

  it("gpus --json lists rows with the spot zone and interruption bucket", async () => {
    const run = await runFrugal(["gpus", "--gpu", "h100", "--region", "all", "--json"])
    expect(run.code).toBe(0)
    const list = parse(run.stdout)
    expect(list["region"]).toBeNull()
    expect(list["accelerators"]).toEqual(["H100"])
    const rows = list["instances"]
    expect(Array.isArray(rows) && rows.length > 1).toBe(true)
    for (const row of Array.isArray(rows) ? rows : []) {
      expect(row).toMatchObject({ accelerator: "H100", region: expect.any(String) })
      expect(row).toHaveProperty("spot")
    }
  })

  it("sends tables to stdout and errors to stderr", async () => {
    const run = await runFrugal(["estimate", "/nonexistent/spec.yaml"])
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
    expect(run.stderr).toContain("/nonexistent/spec.yaml")
  })

  it("shows a stack trace only with FRUGAL_DEBUG=1", async () => {
    const quiet = await runFrugal(["plan", example("impossible-deadline.yaml")])
    expect(quiet.stderr).not.toMatch(STACK_FRAME)
    const debug = await runFrugal(["plan", example("impossible-deadline.yaml")], { env: { FRUGAL_DEBUG: "1" } })
    expect(debug.code).toBe(3)
    expect(debug.stderr).toContain("NoFeasiblePlacement")
  })
})
