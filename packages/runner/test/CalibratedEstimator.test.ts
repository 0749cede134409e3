import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { acceleratorByName, decodeWorkloadFile } from "@frugal/core"
import { coreEstimator } from "@frugal/planner"
import { calibratedEstimator } from "../src/index.ts"

const spec = `
name: calibrate-me
kind: training
model: { parameters: 1B, precision: bf16 }
training: { tokens: 10B, sequenceLength: 2048 }
`

describe("calibratedEstimator", () => {
  it.effect("replaces the default MFU with the measured one for the same accelerator and precision, scaling time", () =>
    Effect.gen(function*() {
      const file = yield* decodeWorkloadFile(spec, "spec")
      assert.strictEqual(file.kind, "single")
      if (file.kind !== "single") return
      const h100 = acceleratorByName("H100")
      const a10g = acceleratorByName("A10G")
      assert.isDefined(h100)
      assert.isDefined(a10g)
      if (h100 === undefined || a10g === undefined) return
      const before = coreEstimator.estimatePlacement(file.workload, h100, 8)
      assert.isNotNull(before.mfu)
      const measuredMfu = (before.mfu ?? 0) * 1.25
      const estimator = calibratedEstimator([
        { accelerator: "H100", precision: "bf16", tokensPerSecondPerGpu: 1, mfu: measuredMfu, runs: 2, lastMeasuredAtMillis: 0 },
        { accelerator: "A10G", precision: "fp16", tokensPerSecondPerGpu: 1, mfu: 0.9, runs: 1, lastMeasuredAtMillis: 0 }
      ])
      const after = estimator.estimatePlacement(file.workload, h100, 8)
      assert.strictEqual(after.mfu, measuredMfu)
      assert.closeTo(after.hours, before.hours / 1.25, 1e-9)
      assert.closeTo(after.tokensPerSecondPerGpu ?? 0, (before.tokensPerSecondPerGpu ?? 0) * 1.25, 1e-6)
      // Another precision measured on A10G says nothing about bf16 there.
      assert.deepStrictEqual(estimator.estimatePlacement(file.workload, a10g, 8), coreEstimator.estimatePlacement(file.workload, a10g, 8))
    }))
})
