/**
 * Every example in examples/ planned through the real `frugal` process, checking what the README
 * promises about each: spot with a saving for the 7B fine-tune, on-demand for the tight
 * non-interruptible job, a commitment (or the reason against one) for the 24/7 service, 175B fp16
 * only on instances holding 350 GB, and exit 3 naming the constraint for the impossible deadline.
 */
import { readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

interface Option {
  readonly instanceType: string
  readonly gpusPerInstance: number
  readonly instanceCount: number
  readonly purchaseOption: string
  readonly expectedCostUsd: number
  readonly meetsDeadline: boolean
  readonly onDemandCostUsd: number | null
  readonly savingVsOnDemandUsd: number | null
  readonly priceIsEstimate: boolean
}
interface PlanJson {
  readonly workload: string
  readonly status: string
  readonly requirements: { readonly memoryGiB: number; readonly minGpus: number }
  readonly options: ReadonlyArray<Option>
  readonly catalog: { readonly source: string; readonly asOf: string }
}

const planJson = async (name: string): Promise<PlanJson> => {
  const run = await runFrugal(["plan", example(name), "--json"])
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout) as PlanJson
}

const first = (plan: PlanJson): Option => {
  const option = plan.options[0]
  if (option === undefined) throw new Error(`${plan.workload}: no options`)
  return option
}

const examples = readdirSync(new URL("../examples/", import.meta.url)).filter((name) => /\.(ya?ml|json)$/.test(name)).sort()

describe.concurrent("examples/", () => {
  it("holds the examples the README tours", () => {
    expect(examples).toEqual(expect.arrayContaining([
      "fleet.yaml",
      "gpt3-175b-inference.yaml",
      "impossible-deadline.yaml",
      "inference-24x7.yaml",
      "llama-70b-pretrain.yaml",
      "llama-7b-finetune.yaml",
      "preprocess-batch.yaml",
      "tight-deadline-on-demand.yaml"
    ]))
  })

  for (const name of examples.filter((n) => n !== "impossible-deadline.yaml")) {
    it(`${name} plans with exit 0, a recommendation, and the catalog's date`, async () => {
      const run = await runFrugal(["plan", example(name)])
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("Recommended: ")
      expect(run.stdout).toMatch(/Prices: .+, as of \d{4}-\d{2}-\d{2}/)
    })
  }

  it("7B full fine-tune: recommends spot and shows its saving against on-demand of the same instance type", async () => {
    const plan = await planJson("llama-7b-finetune.yaml")
    const recommended = first(plan)
    expect(recommended.purchaseOption).toBe("spot")
    expect(recommended.meetsDeadline).toBe(true)
    expect(recommended.onDemandCostUsd).not.toBeNull()
    expect(recommended.savingVsOnDemandUsd).toBeGreaterThan(0)
    expect(recommended.expectedCostUsd + (recommended.savingVsOnDemandUsd ?? 0)).toBeCloseTo(recommended.onDemandCostUsd ?? 0, 0)

    const text = (await runFrugal(["plan", example("llama-7b-finetune.yaml")])).stdout
    const lines = text.split("\n")
    expect(lines.find((line) => line.startsWith("Recommended: "))).toContain(`${recommended.instanceType}`)
    expect(lines.find((line) => line.startsWith("Recommended: "))).toContain("spot")
    expect(text).toMatch(new RegExp(`Saves \\$[0-9,.]+ \\(\\d+%\\) against on-demand \\d+ × ${recommended.instanceType.replaceAll(".", "\\.")}`))
    expect(text).toMatch(/ {2}Why: spot in \S+ /)
  })

  it("a non-interruptible job with a tight deadline gets on-demand, and no spot option at all", async () => {
    const plan = await planJson("tight-deadline-on-demand.yaml")
    expect(first(plan).purchaseOption).toBe("on-demand")
    expect(first(plan).meetsDeadline).toBe(true)
    expect(plan.options.filter((option) => option.purchaseOption === "spot")).toEqual([])
  })

  it("a 24/7 inference service gets a commitment, marked as an estimate, or is told why not", async () => {
    const plan = await planJson("inference-24x7.yaml")
    const recommended = first(plan)
    const text = (await runFrugal(["plan", example("inference-24x7.yaml")])).stdout
    if (recommended.purchaseOption === "reserved" || recommended.purchaseOption === "savings-plan") {
      expect(recommended.priceIsEstimate).toBe(true)
      expect(text).toContain("estimated rate")
    } else {
      expect(text).toContain("Not a commitment:")
    }
  })

  it("175B fp16 inference is only placed on instances with at least 350 GB of GPU memory in total", async () => {
    const plan = await planJson("gpt3-175b-inference.yaml")
    const list = JSON.parse((await runFrugal(["gpus", "--region", "all", "--json"])).stdout) as {
      readonly instances: ReadonlyArray<{ readonly instanceType: string; readonly totalAcceleratorMemoryGiB: number }>
    }
    const memoryOf = new Map(list.instances.map((row) => [row.instanceType, row.totalAcceleratorMemoryGiB]))
    expect(plan.options.length).toBeGreaterThan(0)
    for (const option of plan.options) {
      const perInstanceGiB = memoryOf.get(option.instanceType)
      expect(perInstanceGiB, option.instanceType).toBeDefined()
      // 175e9 parameters × 2 bytes = 350 GB (decimal) of weights alone.
      expect((perInstanceGiB ?? 0) * 2 ** 30 * option.instanceCount).toBeGreaterThanOrEqual(350e9)
    }
  })

  it("an impossible deadline exits 3 naming the binding constraint, with no stack trace", async () => {
    const run = await runFrugal(["plan", example("impossible-deadline.yaml")])
    expect(run.code).toBe(3)
    expect(run.stdout).toBe("")
    expect(run.stderr).toContain("impossible-deadline: no feasible placement: constraints.deadlineHours")
    expect(run.stderr).not.toMatch(STACK_FRAME)
    const json = await runFrugal(["plan", example("impossible-deadline.yaml"), "--json"])
    expect(json.code).toBe(3)
    expect(json.stdout).toBe("")
  })

  it("a fleet prints one plan per workload with its status and a summary", async () => {
    const run = await runFrugal(["plan", example("fleet.yaml"), "--json"])
    expect(run.code).toBe(0)
    const fleet = JSON.parse(run.stdout) as {
      readonly workloads: ReadonlyArray<{ readonly workload: string; readonly status: string }>
      readonly summary: { readonly workloads: number; readonly feasible: number; readonly infeasible: number }
    }
    expect(fleet.workloads.map((w) => [w.workload, w.status])).toEqual([
      ["finetune-7b", "ok"],
      ["tokenize-corpus", "ok"],
      ["serve-8b", "ok"]
    ])
    expect(fleet.summary).toMatchObject({ workloads: 3, feasible: 3, infeasible: 0 })
  })

  it("a fleet with one impossible member still lists every workload, and exits 3 naming it", async () => {
    const spec = [
      "workloads:",
      "  - name: fine",
      "    kind: batch",
      "    batch: { gpuHours: 10, referenceGpu: T4 }",
      "  - name: hopeless",
      "    kind: training",
      "    model: { parameters: 70B }",
      "    training: { tokens: 2T }",
      "    constraints: { deadlineHours: 1 }"
    ].join("\n")
    const run = await runFrugal(["plan", "-", "--json"], { stdin: spec })
    expect(run.code).toBe(3)
    const fleet = JSON.parse(run.stdout) as { readonly workloads: ReadonlyArray<{ readonly workload: string; readonly status: string }> }
    expect(fleet.workloads.map((w) => w.status)).toEqual(["ok", "infeasible"])
    expect(run.stderr).toContain("hopeless: no feasible placement: constraints.deadlineHours")
    expect(run.stderr).not.toMatch(STACK_FRAME)
  })

  it("plans deterministically: the same input gives byte-identical JSON", async () => {
    const [a, b] = await Promise.all([
      runFrugal(["plan", example("llama-70b-pretrain.yaml"), "--json"]),
      runFrugal(["plan", example("llama-70b-pretrain.yaml"), "--json"])
    ])
    expect(a.code).toBe(0)
    expect(a.stdout).toBe(b.stdout)
  })
})
