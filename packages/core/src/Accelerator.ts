/**
 * Specifications of every accelerator AWS sells in the GPU catalog: memory, peak dense TFLOP/s per precision, memory
 * bandwidth and interconnect. Figures are from vendor datasheets and AWS/Neuron documentation; `docs/accelerators.md`
 * gives the source of each row. Peaks are DENSE (NVIDIA datasheets print sparse figures with an asterisk: halved here).
 */
import { ACCELERATOR_NAMES, type AcceleratorName, canonicalAcceleratorName } from "./AcceleratorName.ts"
import type { Precision } from "./Workload.ts"

export type InterconnectKind = "nvlink" | "pcie" | "neuronlink" | "roce"

export interface PeakTflops {
  /** Non-tensor single precision. */
  readonly fp32: number | null
  /** TF32 tensor math (fp32 storage); null where the hardware has none (pre-Ampere). */
  readonly tf32: number | null
  readonly bf16: number | null
  readonly fp16: number | null
  readonly fp8: number | null
}

export interface AcceleratorSpec {
  readonly name: AcceleratorName
  readonly vendor: "NVIDIA" | "AMD" | "Habana" | "AWS"
  readonly architecture: string
  /** Device memory visible to software on AWS (GiB, 2^30 bytes): EC2 DescribeInstanceTypes `MemoryInfo.SizeInMiB` / 1024. */
  readonly memoryGiB: number
  /** Peak memory bandwidth, decimal GB/s (10^9 bytes per second). */
  readonly memoryBandwidthGBps: number
  readonly peakTflops: PeakTflops
  readonly interconnect: {
    readonly kind: InterconnectKind
    /** Bidirectional GB/s per accelerator; null where the vendor does not publish a per-device figure. */
    readonly bandwidthGBps: number | null
  }
  /** Most accelerators one AWS instance holds (p5.48xlarge: 8 H100). */
  readonly maxPerInstance: number
  /** Runs CUDA (and so the reference PyTorch trainer). */
  readonly cuda: boolean
}

const pcie = (generation: 3 | 4 | 5) => ({ kind: "pcie" as const, bandwidthGBps: { 3: 32, 4: 64, 5: 128 }[generation] })
const nvlink = (bandwidthGBps: number) => ({ kind: "nvlink" as const, bandwidthGBps })
const neuronlink = { kind: "neuronlink" as const, bandwidthGBps: null }

const T4_TFLOPS: PeakTflops = { fp32: 8.1, tf32: null, bf16: null, fp16: 65, fp8: null }
const V100_TFLOPS: PeakTflops = { fp32: 15.7, tf32: null, bf16: null, fp16: 125, fp8: null }
const A100_TFLOPS: PeakTflops = { fp32: 19.5, tf32: 156, bf16: 312, fp16: 312, fp8: null }
const HOPPER_TFLOPS: PeakTflops = { fp32: 67, tf32: 494.7, bf16: 989.4, fp16: 989.4, fp8: 1978.9 }
const BLACKWELL_TFLOPS: PeakTflops = { fp32: 75, tf32: 1100, bf16: 2250, fp16: 2250, fp8: 4500 }
const NEURON_V2_TFLOPS: PeakTflops = { fp32: 47.5, tf32: 190, bf16: 190, fp16: 190, fp8: 190 }

/** Every accelerator in the catalog, in the order of `ACCELERATOR_NAMES`. */
export const ACCELERATORS: ReadonlyArray<AcceleratorSpec> = [
  { name: "T4", vendor: "NVIDIA", architecture: "Turing", memoryGiB: 16, memoryBandwidthGBps: 320, peakTflops: T4_TFLOPS, interconnect: pcie(3), maxPerInstance: 8, cuda: true },
  { name: "T4G", vendor: "NVIDIA", architecture: "Turing", memoryGiB: 16, memoryBandwidthGBps: 320, peakTflops: T4_TFLOPS, interconnect: pcie(3), maxPerInstance: 2, cuda: true },
  { name: "V100", vendor: "NVIDIA", architecture: "Volta", memoryGiB: 16, memoryBandwidthGBps: 900, peakTflops: V100_TFLOPS, interconnect: nvlink(300), maxPerInstance: 8, cuda: true },
  { name: "V100-32GB", vendor: "NVIDIA", architecture: "Volta", memoryGiB: 32, memoryBandwidthGBps: 900, peakTflops: V100_TFLOPS, interconnect: nvlink(300), maxPerInstance: 8, cuda: true },
  { name: "A10G", vendor: "NVIDIA", architecture: "Ampere", memoryGiB: 22.35, memoryBandwidthGBps: 600, peakTflops: { fp32: 31.2, tf32: 35, bf16: 70, fp16: 70, fp8: null }, interconnect: pcie(4), maxPerInstance: 8, cuda: true },
  { name: "L4", vendor: "NVIDIA", architecture: "Ada Lovelace", memoryGiB: 22.35, memoryBandwidthGBps: 300, peakTflops: { fp32: 30.3, tf32: 60, bf16: 121, fp16: 121, fp8: 242.5 }, interconnect: pcie(4), maxPerInstance: 8, cuda: true },
  { name: "L40S", vendor: "NVIDIA", architecture: "Ada Lovelace", memoryGiB: 44.7, memoryBandwidthGBps: 864, peakTflops: { fp32: 91.6, tf32: 183, bf16: 362, fp16: 362, fp8: 733 }, interconnect: pcie(4), maxPerInstance: 8, cuda: true },
  { name: "RTXPRO6000", vendor: "NVIDIA", architecture: "Blackwell", memoryGiB: 96, memoryBandwidthGBps: 1597, peakTflops: { fp32: 117, tf32: 250, bf16: 500, fp16: 500, fp8: 1000 }, interconnect: pcie(5), maxPerInstance: 8, cuda: true },
  { name: "A100-40GB", vendor: "NVIDIA", architecture: "Ampere", memoryGiB: 40, memoryBandwidthGBps: 1555, peakTflops: A100_TFLOPS, interconnect: nvlink(600), maxPerInstance: 8, cuda: true },
  { name: "A100-80GB", vendor: "NVIDIA", architecture: "Ampere", memoryGiB: 80, memoryBandwidthGBps: 2039, peakTflops: A100_TFLOPS, interconnect: nvlink(600), maxPerInstance: 8, cuda: true },
  { name: "H100", vendor: "NVIDIA", architecture: "Hopper", memoryGiB: 80, memoryBandwidthGBps: 3350, peakTflops: HOPPER_TFLOPS, interconnect: nvlink(900), maxPerInstance: 8, cuda: true },
  { name: "H200", vendor: "NVIDIA", architecture: "Hopper", memoryGiB: 141, memoryBandwidthGBps: 4800, peakTflops: HOPPER_TFLOPS, interconnect: nvlink(900), maxPerInstance: 8, cuda: true },
  { name: "B200", vendor: "NVIDIA", architecture: "Blackwell", memoryGiB: 179.06, memoryBandwidthGBps: 8000, peakTflops: BLACKWELL_TFLOPS, interconnect: nvlink(1800), maxPerInstance: 8, cuda: true },
  { name: "B300", vendor: "NVIDIA", architecture: "Blackwell Ultra", memoryGiB: 268.59, memoryBandwidthGBps: 8000, peakTflops: BLACKWELL_TFLOPS, interconnect: nvlink(1800), maxPerInstance: 8, cuda: true },
  { name: "Radeon-V520", vendor: "AMD", architecture: "RDNA (Navi 12)", memoryGiB: 8, memoryBandwidthGBps: 512, peakTflops: { fp32: 7.37, tf32: null, bf16: null, fp16: 14.75, fp8: null }, interconnect: pcie(4), maxPerInstance: 4, cuda: false },
  { name: "Gaudi", vendor: "Habana", architecture: "Gaudi HL-205", memoryGiB: 32, memoryBandwidthGBps: 1000, peakTflops: { fp32: null, tf32: null, bf16: null, fp16: null, fp8: null }, interconnect: { kind: "roce", bandwidthGBps: 250 }, maxPerInstance: 8, cuda: false },
  { name: "Trainium", vendor: "AWS", architecture: "NeuronCore-v2", memoryGiB: 32, memoryBandwidthGBps: 820, peakTflops: NEURON_V2_TFLOPS, interconnect: neuronlink, maxPerInstance: 16, cuda: false },
  { name: "Trainium2", vendor: "AWS", architecture: "NeuronCore-v3", memoryGiB: 96, memoryBandwidthGBps: 2900, peakTflops: { fp32: 181, tf32: 667, bf16: 667, fp16: 667, fp8: 1299 }, interconnect: neuronlink, maxPerInstance: 16, cuda: false },
  { name: "Inferentia", vendor: "AWS", architecture: "NeuronCore-v1", memoryGiB: 8, memoryBandwidthGBps: 53.7, peakTflops: { fp32: null, tf32: null, bf16: 64, fp16: 64, fp8: null }, interconnect: neuronlink, maxPerInstance: 16, cuda: false },
  { name: "Inferentia2", vendor: "AWS", architecture: "NeuronCore-v2", memoryGiB: 32, memoryBandwidthGBps: 820, peakTflops: NEURON_V2_TFLOPS, interconnect: neuronlink, maxPerInstance: 12, cuda: false }
]

const byName: ReadonlyMap<string, AcceleratorSpec> = new Map(ACCELERATORS.map((spec) => [spec.name, spec]))

/** The spec for a canonical name (any case) or an unambiguous alias; undefined when unknown. */
export const acceleratorByName = (name: string): AcceleratorSpec | undefined => {
  const canonical = canonicalAcceleratorName(name)
  return canonical === undefined ? undefined : byName.get(canonical)
}

/**
 * The AWS catalog's `AcceleratorName` (SkyPilot's naming) → canonical name. `A100` is the 40 GB part (p4d; p4de
 * rows say `A100-80GB`). FPGAs (`Virtex UltraScale …`) are not accelerators Frugal places: undefined.
 */
export const catalogAcceleratorName = (catalogName: string): AcceleratorName | undefined => {
  const name = catalogName.trim()
  if (name.toLowerCase() === "a100") return "A100-40GB"
  return canonicalAcceleratorName(name)
}

/**
 * The peak a workload in `precision` gets: the precision's own figure, or the nearest one the hardware runs
 * (bf16 on a T4 or V100 runs as fp16 mixed precision; fp8 without fp8 units as bf16; tf32 without TF32 as fp32).
 * Null when the vendor publishes no figure at all.
 */
export const effectivePeakTflops = (spec: AcceleratorSpec, precision: Precision): number | null => {
  const p = spec.peakTflops
  switch (precision) {
    case "fp8":
      return p.fp8 ?? p.bf16 ?? p.fp16 ?? p.fp32
    case "bf16":
      return p.bf16 ?? p.fp16 ?? p.fp32
    case "fp16":
      return p.fp16 ?? p.bf16 ?? p.fp32
    case "tf32":
      return p.tf32 ?? p.fp32
    case "fp32":
      return p.fp32
  }
}

/** The precision that actually runs when the requested one is missing (see `effectivePeakTflops`). */
export const effectivePrecision = (spec: AcceleratorSpec, precision: Precision): Precision => {
  const p = spec.peakTflops
  switch (precision) {
    case "fp8":
      return p.fp8 !== null ? "fp8" : p.bf16 !== null ? "bf16" : p.fp16 !== null ? "fp16" : "fp32"
    case "bf16":
      return p.bf16 !== null ? "bf16" : p.fp16 !== null ? "fp16" : "fp32"
    case "fp16":
      return p.fp16 !== null ? "fp16" : p.bf16 !== null ? "bf16" : "fp32"
    case "tf32":
      return p.tf32 !== null ? "tf32" : "fp32"
    case "fp32":
      return "fp32"
  }
}

/** All canonical names, for help texts. */
export const acceleratorNames = (): ReadonlyArray<AcceleratorName> => ACCELERATOR_NAMES
