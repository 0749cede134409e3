import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { InvalidInput, NoFeasiblePlacement } from "@frugal/core"
import { PriceCatalog } from "@frugal/pricing"
import { Frugal, isFleetPlan } from "../src/index.ts"

const finetune = {
  name: "llama-7b-finetune",
  kind: "training",
  model: { parameters: "7B", precision: "bf16" },
  training: { tokens: "20B", sequenceLength: 4096, activationCheckpointing: true },
  constraints: { deadlineHours: 72, interruptible: true }
}

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected the promise to reject")
}

describe("Frugal.make", () => {
  it("lists GPU prices from the embedded snapshot, with its date", async () => {
    await using frugal = Frugal.make()
    const list = await frugal.gpus({ region: "us-east-1", gpu: "h100" })
    expect(list.catalog.kind).toBe("embedded")
    expect(list.catalog.asOf).toMatch(/^\d{4}-\d{2}-\d{2}/)
    expect(list.region).toBe("us-east-1")
    expect(list.instances.length).toBeGreaterThan(0)
    for (const row of list.instances) {
      expect(row.accelerator).toBe("H100")
      expect(row.region).toBe("us-east-1")
    }
    const p5 = list.instances.find((row) => row.instanceType === "p5.48xlarge")
    expect(p5?.acceleratorCount).toBe(8)
    expect(p5?.totalAcceleratorMemoryGiB).toBe(640)
  })

  it("estimates a workload given as an object or as spec text, identically", async () => {
    await using frugal = Frugal.make()
    const fromObject = await frugal.estimate(finetune)
    const fromText = await frugal.estimate(JSON.stringify(finetune))
    expect(fromText).toEqual(fromObject)
    if ("workloads" in fromObject) throw new Error("expected a single workload")
    // Mixed-precision AdamW: 16 bytes per parameter of state before sharding (ZeRO paper).
    const state = fromObject.memory.weightsGiB + fromObject.memory.gradientsGiB + fromObject.memory.optimizerGiB
    expect(state * fromObject.memory.gpus).toBeGreaterThanOrEqual((16 * 7e9) / 2 ** 30 * 0.99)
    expect(fromObject.compute.flops).toBeGreaterThan(6 * 7e9 * 20e9)
    const h100 = fromObject.compute.byAccelerator["H100"]
    expect(h100?.gpus).toBeGreaterThanOrEqual(2)
    expect(h100?.hours).toBeGreaterThan(0)
  })

  it("sizes a non-CUDA accelerator only when the workload names it, as the planner does", async () => {
    await using frugal = Frugal.make()
    const unnamed = await frugal.estimate(finetune)
    if ("workloads" in unnamed) throw new Error("expected a single workload")
    expect(unnamed.compute.byAccelerator["Trainium"]).toBeUndefined()
    expect(unnamed.compute.unsuitable).toContain("Trainium")
    const named = await frugal.estimate({ ...finetune, resources: { accelerators: ["Trainium"] } })
    if ("workloads" in named) throw new Error("expected a single workload")
    expect(Object.keys(named.compute.byAccelerator)).toEqual(["Trainium"])
    expect(named.compute.byAccelerator["Trainium"]?.gpus).toBeGreaterThanOrEqual(1)
  })

  it("rejects a malformed workload with the same InvalidInput the CLI prints, naming each field", async () => {
    await using frugal = Frugal.make()
    const error = await rejection(frugal.estimate({ ...finetune, model: { parameters: "lots", precision: "fp64" } }))
    expect(error).toBeInstanceOf(InvalidInput)
    if (!(error instanceof InvalidInput)) return
    expect(error._tag).toBe("InvalidInput")
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(["model.parameters", "model.precision"])
  })

  it("rejects an unknown GPU with InvalidInput naming the gpu field", async () => {
    await using frugal = Frugal.make()
    const error = await rejection(frugal.gpus({ gpu: "H1000" }))
    expect(error).toBeInstanceOf(InvalidInput)
    if (error instanceof InvalidInput) expect(error.issues[0]?.path).toBe("gpu")
  })

  it("rejects an object JSON cannot represent instead of half-decoding it", async () => {
    await using frugal = Frugal.make()
    const cyclic: Record<string, unknown> = { name: "x" }
    cyclic["self"] = cyclic
    const error = await rejection(frugal.estimate(cyclic))
    expect(error).toBeInstanceOf(InvalidInput)
  })

  it("plans a workload: spot first for an interruptible fine-tune, with its saving against on-demand", async () => {
    await using frugal = Frugal.make()
    const plan = await frugal.plan(finetune, { top: 5 })
    if (isFleetPlan(plan)) throw new Error("expected a single plan")
    expect(plan.workload).toBe("llama-7b-finetune")
    expect(plan.options).toHaveLength(5)
    expect(plan.options[0]?.purchaseOption).toBe("spot")
    expect(plan.options[0]?.savingVsOnDemandUsd).toBeGreaterThan(0)
    expect(plan.catalog.source).toBe("embedded")
  })

  it("plans a fleet given as spec text, one plan per workload", async () => {
    await using frugal = Frugal.make()
    const plan = await frugal.plan([
      "workloads:",
      "  - { name: a, kind: batch, batch: { gpuHours: 10, referenceGpu: T4 } }",
      "  - { name: b, kind: batch, batch: { gpuHours: 20, referenceGpu: L4 } }"
    ].join("\n"))
    if (!isFleetPlan(plan)) throw new Error("expected a fleet plan")
    expect(plan.workloads.map((w) => [w.workload, w.status])).toEqual([["a", "ok"], ["b", "ok"]])
    expect(plan.summary.feasible).toBe(2)
  })

  it("rejects an impossible deadline with NoFeasiblePlacement naming the constraint", async () => {
    await using frugal = Frugal.make()
    const error = await rejection(frugal.plan({
      name: "hopeless",
      kind: "training",
      model: { parameters: "70B" },
      training: { tokens: "2T" },
      constraints: { deadlineHours: 1 }
    }))
    expect(error).toBeInstanceOf(NoFeasiblePlacement)
    if (error instanceof NoFeasiblePlacement) expect(error.constraint).toBe("constraints.deadlineHours")
  })

  it("prices with the catalog layer it is given", async () => {
    const catalog = Layer.succeed(PriceCatalog)(PriceCatalog.of({
      catalog: () =>
        Effect.succeed({
          source: { kind: "file", asOf: "2026-01-01", description: "a one-instance test catalog", notes: [] },
          instanceTypes: [{ name: "g5.xlarge", accelerator: "A10G", acceleratorCount: 1, acceleratorMemoryGiB: 22.4, vcpus: 4, memoryGiB: 16, arch: "x86_64" }],
          offers: [{
            instanceType: "g5.xlarge",
            region: "us-east-1",
            availabilityZone: null,
            purchaseOption: "on-demand",
            hourlyPriceUsd: 1,
            term: null,
            priceIsEstimate: false,
            interruptionBucket: null,
            placementScore: null
          }]
        })
    }))
    await using frugal = Frugal.make({ catalog })
    const list = await frugal.gpus({ region: "us-east-1" })
    expect(list.catalog.description).toBe("a one-instance test catalog")
    expect(list.instances.map((row) => [row.instanceType, row.onDemandHourlyUsd, row.spot])).toEqual([["g5.xlarge", 1, null]])
    const plan = await frugal.plan({ name: "small", kind: "batch", batch: { gpuHours: 3, referenceGpu: "A10G" } })
    if (isFleetPlan(plan)) throw new Error("expected a single plan")
    expect(plan.options[0]).toMatchObject({ instanceType: "g5.xlarge", purchaseOption: "on-demand", hourlyPriceUsd: 1 })
  })
})
