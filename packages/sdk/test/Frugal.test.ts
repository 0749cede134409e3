import { describe, expect, it } from "@effect/vitest"
import { InvalidInput } from "@frugal/core"
import { Frugal } from "../src/index.ts"

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
})
