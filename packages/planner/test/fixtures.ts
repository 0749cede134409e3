/**
 * A small hand-written catalog and a stub estimator whose hours are round numbers, so that tests can state
 * expected dollars computed by hand (the arithmetic is in each test's comments).
 */
import {
  type AcceleratorSpec,
  decodeWorkloadFile,
  type InstanceType,
  type Offer,
  type PlacementEstimate,
  regionalOffer,
  type Workload,
  workloadsOf
} from "@frugal/core"
import type { Catalog } from "@frugal/pricing"
import { Effect } from "effect"
import type { Estimator } from "../src/index.ts"

export const workload = (spec: unknown): Workload => {
  const [first] = workloadsOf(Effect.runSync(decodeWorkloadFile(JSON.stringify(spec), "test.json")))
  if (first === undefined) throw new Error("no workload")
  return first
}

const type = (name: string, accelerator: string, acceleratorCount: number, acceleratorMemoryGiB: number): InstanceType => ({
  name, accelerator, acceleratorCount, acceleratorMemoryGiB, vcpus: 96, memoryGiB: 1152, arch: "x86_64"
})

const offer = regionalOffer

const reserved1y = (instanceType: string, region: string, hourly: number): Offer =>
  offer(instanceType, region, "reserved", hourly, {
    term: { years: 1, paymentOption: "all-upfront", offeringClass: "standard", upfrontUsd: hourly * 8760, recurringHourlyUsd: 0 },
    priceIsEstimate: true
  })

/**
 * p4d.24xlarge (8 × A100-40GB): us-east-1 on-demand $20, spot $6 (use1-az1) and $8 (use1-az2) in bucket 2 (10-15%),
 * reserved 1-yr $12; us-west-2 on-demand $22, spot $5 (usw2-az1) in bucket 4 (>20%). Every spot zone has a placement
 * score of 10, so capacity is certain unless a test says otherwise.
 * g5.xlarge (1 × A10G): us-east-1 on-demand $1.
 */
export const fixtureCatalog: Catalog = {
  source: { kind: "file", asOf: "2026-01-01", description: "test fixture", notes: ["fixture note"] },
  instanceTypes: [type("p4d.24xlarge", "A100-40GB", 8, 40), type("g5.xlarge", "A10G", 1, 22.35)],
  offers: [
    offer("p4d.24xlarge", "us-east-1", "on-demand", 20),
    offer("p4d.24xlarge", "us-east-1", "spot", 6, { availabilityZone: "use1-az1", interruptionBucket: 2, placementScore: 10 }),
    offer("p4d.24xlarge", "us-east-1", "spot", 8, { availabilityZone: "use1-az2", interruptionBucket: 2, placementScore: 10 }),
    reserved1y("p4d.24xlarge", "us-east-1", 12),
    offer("p4d.24xlarge", "us-west-2", "on-demand", 22),
    offer("p4d.24xlarge", "us-west-2", "spot", 5, { availabilityZone: "usw2-az1", interruptionBucket: 4, placementScore: 10 }),
    offer("g5.xlarge", "us-east-1", "on-demand", 1)
  ]
}

const breakdown = (perGpuGiB: number, gpus: number) => ({
  weightsGiB: perGpuGiB, gradientsGiB: 0, optimizerGiB: 0, activationsGiB: 0, logitsGiB: 0, kvCacheGiB: 0, overheadGiB: 0,
  perGpuGiB, totalGiB: perGpuGiB * gpus
})

/**
 * Only the A100-40GB can hold the workload, on at least 8 GPUs (FSDP). Training takes 800 GPU-hours: 100 h on 8 GPUs,
 * and past one node 90% scaling (16 GPUs: 800 / 16 / 0.9 = 55.56 h). A service runs its `hoursPerMonth`.
 */
export const stubEstimator: Estimator = {
  minimumGpus: (_workload: Workload, accelerator: AcceleratorSpec) => (accelerator.name === "A100-40GB" ? 8 : null),
  estimatePlacement: (w: Workload, accelerator: AcceleratorSpec, gpus: number): PlacementEstimate => ({
    accelerator: accelerator.name,
    gpus,
    sharding: "fsdp",
    memory: breakdown(30, gpus),
    fits: accelerator.name === "A100-40GB" && gpus >= 8,
    hours: w.kind === "inference" ? w.inference.hoursPerMonth : 800 / gpus / (gpus > 8 ? 0.9 : 1),
    tokensPerSecondPerGpu: null,
    mfu: null,
    scalingEfficiency: gpus > 8 ? 0.9 : 1
  })
}

/** 7B parameters with AdamW: a 84 GB checkpoint (12 bytes per parameter), written at 1 GB/s: δ = 84 s. */
export const training = (constraints: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Workload =>
  workload({
    name: "finetune",
    kind: "training",
    model: { parameters: "7B", precision: "bf16", optimizer: "adamw" },
    training: { tokens: "20B" },
    constraints,
    ...extra
  })

/**
 * Cost-model assumptions with round numbers: launches of 6 min (0.1 h), checkpoints at 1 GB/s per instance, downloads
 * (data, pretrained weights) that take no time.
 */
export const roundAssumptions = { restartHours: 0.1, checkpointGBpsPerInstance: 1, downloadGBps: () => Number.POSITIVE_INFINITY }
