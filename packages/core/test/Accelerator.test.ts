import { assert, describe, it } from "@effect/vitest"
import {
  ACCELERATORS,
  acceleratorByName,
  catalogAcceleratorName,
  effectivePeakTflops,
  effectivePrecision
} from "../src/Accelerator.ts"
import { ACCELERATOR_NAMES } from "../src/AcceleratorName.ts"

/**
 * Every `AcceleratorName` of the embedded AWS catalog snapshot (SkyPilot v9 vms.csv) with the per-device memory
 * EC2 DescribeInstanceTypes reports (`MemoryInfo.SizeInMiB`); null for FPGAs.
 */
const CATALOG: ReadonlyArray<readonly [string, number | null]> = [
  ["A100", 40960],
  ["A100-80GB", 81920],
  ["A10G", 22888],
  ["B200", 183359],
  ["B300", 275040],
  ["Gaudi HL-205", 32768],
  ["H100", 81920],
  ["H200", 144384],
  ["Inferentia", 8192],
  ["Inferentia2", 32768],
  ["L4", 22888],
  ["L40S", 45776],
  ["RTXPRO6000", 98304],
  ["Radeon Pro V520", 8192],
  ["T4", 16384],
  ["T4g", 16384],
  ["Trainium", 32768],
  ["Trainium2", 524288],
  ["V100", 16384],
  ["V100-32GB", 32768],
  ["Virtex UltraScale (VU9P)", null],
  ["Virtex UltraScale+ (VU47P)", null]
]

describe("Accelerator specs", () => {
  it("has exactly one spec per canonical name, in the canonical order", () => {
    assert.deepStrictEqual(ACCELERATORS.map((a) => a.name), [...ACCELERATOR_NAMES])
  })

  it("maps every accelerator of the AWS catalog to a canonical spec, and no FPGA", () => {
    for (const [name, mib] of CATALOG) {
      const canonical = catalogAcceleratorName(name)
      if (mib === null) {
        assert.strictEqual(canonical, undefined, name)
        continue
      }
      assert.isDefined(canonical, name)
      const spec = acceleratorByName(canonical ?? "")
      assert.isDefined(spec, name)
      // Trainium2: the catalog row of trn2.3xlarge reports 512 GiB for one chip; the Neuron docs give 96 GiB.
      if (canonical !== "Trainium2") {
        assert.approximately(spec?.memoryGiB ?? 0, mib / 1024, mib / 1024 * 0.01, name)
      }
    }
    assert.strictEqual(catalogAcceleratorName("A100"), "A100-40GB")
    assert.strictEqual(catalogAcceleratorName("Radeon Pro V520"), "Radeon-V520")
    assert.strictEqual(catalogAcceleratorName("Gaudi HL-205"), "Gaudi")
    assert.strictEqual(catalogAcceleratorName("T4g"), "T4G")
  })

  it("finds specs by name in any case", () => {
    assert.strictEqual(acceleratorByName("h100")?.name, "H100")
    assert.strictEqual(acceleratorByName("a100-80gb")?.memoryGiB, 80)
    assert.strictEqual(acceleratorByName("A100"), undefined)
    assert.strictEqual(acceleratorByName("X9000"), undefined)
  })

  it("marks only NVIDIA parts as CUDA", () => {
    for (const spec of ACCELERATORS) assert.strictEqual(spec.cuda, spec.vendor === "NVIDIA", spec.name)
    assert.isFalse(acceleratorByName("Trainium2")?.cuda)
  })

  it("stores dense peaks: H100 SXM bf16 989.4 and fp8 1978.9 TFLOP/s (datasheet prints 1979/3958 with sparsity)", () => {
    const h100 = acceleratorByName("H100")
    assert.strictEqual(h100?.peakTflops.bf16, 989.4)
    assert.strictEqual(h100?.peakTflops.fp8, 1978.9)
    assert.strictEqual(h100?.memoryBandwidthGBps, 3350)
    assert.strictEqual(acceleratorByName("A100-40GB")?.peakTflops.bf16, 312)
    assert.strictEqual(acceleratorByName("A100-40GB")?.peakTflops.fp8, null)
  })

  it("orders peaks as the hardware does: fp8 ≥ 16-bit ≥ tf32 ≥ fp32 where present", () => {
    for (const { name, peakTflops: p } of ACCELERATORS) {
      const chain = [p.fp8, p.bf16 ?? p.fp16, p.tf32, p.fp32].filter((x): x is number => x !== null)
      for (let i = 1; i < chain.length; i++) assert.isAtLeast(chain[i - 1] ?? 0, chain[i] ?? 0, name)
    }
  })

  it("runs bf16 as fp16 where the hardware has no bf16 (T4, V100) and fp8 as bf16 without fp8 units", () => {
    const t4 = acceleratorByName("T4")
    const a100 = acceleratorByName("A100-80GB")
    if (t4 === undefined || a100 === undefined) throw new Error("missing spec")
    assert.strictEqual(effectivePrecision(t4, "bf16"), "fp16")
    assert.strictEqual(effectivePeakTflops(t4, "bf16"), 65)
    assert.strictEqual(effectivePrecision(a100, "fp8"), "bf16")
    assert.strictEqual(effectivePeakTflops(a100, "fp8"), 312)
    assert.strictEqual(effectivePeakTflops(t4, "tf32"), 8.1)
  })

  it("gives every spec a positive memory, bandwidth and instance size", () => {
    for (const spec of ACCELERATORS) {
      assert.isAbove(spec.memoryGiB, 0, spec.name)
      assert.isAbove(spec.memoryBandwidthGBps, 0, spec.name)
      assert.isAtLeast(spec.maxPerInstance, 1, spec.name)
    }
  })
})
