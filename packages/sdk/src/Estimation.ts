/**
 * `frugal estimate` / `Frugal.estimate`: what a workload needs before any price is involved — its
 * memory, its FLOPs, and for each accelerator the fewest GPUs that hold it and how long it takes on
 * them. The numbers come from `@frugal/core`'s estimate facade; this module only arranges them in the
 * shape of the `estimate --json` contract (ARCHITECTURE.md).
 */
import * as Effect from "effect/Effect"
import {
  ACCELERATORS,
  type AcceleratorSpec,
  type InvalidInput,
  type MemoryBreakdown,
  type PlacementEstimate,
  trainingFlops,
  type Workload
} from "@frugal/core"
import { coreEstimator, type Estimator } from "@frugal/planner"
import { loadCalibration, workloadsFor } from "./Calibration.ts"
import type { Calibrated, CalibratedRequest } from "./Planning.ts"
import { decodeWorkloadInput, type WorkloadInput } from "./WorkloadInput.ts"

export interface AcceleratorEstimate {
  readonly tokensPerSecondPerGpu: number | null
  /** The fewest GPUs (1, 2, 4, 8, then multiples of 8) that hold the workload and meet its throughput. */
  readonly gpus: number
  /** Training and batch: wall-clock hours of the whole job; inference: hours per month. */
  readonly hours: number
  readonly sharding: string
  /** Memory per GPU on `gpus` GPUs, after sharding. */
  readonly perGpuGiB: number
  readonly mfu: number | null
  readonly scalingEfficiency: number
}

export interface EstimateReport {
  readonly workload: string
  readonly kind: Workload["kind"]
  /**
   * Memory per GPU after sharding (and `totalGiB` across GPUs) on the first accelerator of
   * `compute.byAccelerator` at its GPU count, named here. When no accelerator can run the workload:
   * its whole footprint on one H100, unsharded.
   */
  readonly memory: MemoryBreakdown & { readonly accelerator: string; readonly gpus: number; readonly sharding: string }
  readonly compute: {
    /** Model FLOPs of the whole training run (6·N·D plus attention); null for inference and batch. */
    readonly flops: number | null
    /** Accelerators that can run the workload, best first (fewest hours). */
    readonly byAccelerator: Readonly<Record<string, AcceleratorEstimate>>
    /** Accelerators that cannot run it at any count (too small, not CUDA for training, not allowed). */
    readonly unsuitable: ReadonlyArray<string>
  }
}

/** A single workload's estimate, or one per workload of a fleet. */
export type EstimateResult = EstimateReport | { readonly workloads: ReadonlyArray<EstimateReport> }

/** Where the footprint is shown when no accelerator can run the workload. */
const REFERENCE_ACCELERATOR = "H100"

const allowedAccelerators = (workload: Workload): ReadonlyArray<AcceleratorSpec> => {
  const requested = workload.resources?.accelerators
  if (requested === undefined) return ACCELERATORS
  const names = new Set(requested.map((request) => request.accelerator))
  return ACCELERATORS.filter((spec) => names.has(spec.name))
}

/** The estimate of one decoded workload. Pure. */
export const estimateReport = (workload: Workload, estimator: Estimator = coreEstimator): EstimateReport => {
  const allowed = allowedAccelerators(workload)
  // Non-CUDA accelerators are sized only when the workload names them, as the planner does.
  const sizing = { allowNonCuda: workload.resources?.accelerators !== undefined }
  const rows: Array<readonly [AcceleratorSpec, PlacementEstimate]> = []
  const unsuitable: Array<string> = []
  for (const spec of ACCELERATORS) {
    const gpus = allowed.includes(spec) ? estimator.minimumGpus(workload, spec, sizing) : null
    if (gpus === null) unsuitable.push(spec.name)
    else rows.push([spec, estimator.estimatePlacement(workload, spec, gpus)])
  }
  rows.sort(([a, x], [b, y]) => x.hours - y.hours || x.gpus - y.gpus || (a.name < b.name ? -1 : 1))
  const reference = ACCELERATORS.find((spec) => spec.name === REFERENCE_ACCELERATOR)
  const shown = rows[0]?.[1] ?? (reference === undefined ? undefined : estimator.estimatePlacement(workload, reference, 1))
  return {
    workload: workload.name,
    kind: workload.kind,
    memory: {
      ...(shown?.memory ?? emptyMemory),
      accelerator: shown?.accelerator ?? REFERENCE_ACCELERATOR,
      gpus: shown?.gpus ?? 1,
      sharding: shown?.sharding ?? "none"
    },
    compute: {
      flops: workload.kind === "training"
        ? trainingFlops(workload)
        : null,
      byAccelerator: Object.fromEntries(rows.map(([spec, estimate]): readonly [string, AcceleratorEstimate] => [spec.name, {
        tokensPerSecondPerGpu: estimate.tokensPerSecondPerGpu,
        gpus: estimate.gpus,
        hours: estimate.hours,
        sharding: estimate.sharding,
        perGpuGiB: estimate.memory.perGpuGiB,
        mfu: estimate.mfu,
        scalingEfficiency: estimate.scalingEfficiency
      }])),
      unsuitable
    }
  }
}

const emptyMemory: MemoryBreakdown = {
  weightsGiB: 0,
  gradientsGiB: 0,
  optimizerGiB: 0,
  activationsGiB: 0,
  logitsGiB: 0,
  kvCacheGiB: 0,
  overheadGiB: 0,
  perGpuGiB: 0,
  totalGiB: 0
}

/** Decodes the input (spec text or object) and estimates every workload in it. */
export const estimateWorkloads = (
  input: WorkloadInput,
  source?: string,
  options: { readonly estimator?: Estimator | undefined } = {}
): Effect.Effect<EstimateResult, InvalidInput> =>
  Effect.map(decodeWorkloadInput(input, source), (file) => {
    const report = (workload: Workload) => estimateReport(workload, options.estimator)
    return file.kind === "single" ? report(file.workload) : { workloads: file.workloads.map(report) }
  })

/** The estimate under the ledger's calibration (`frugal estimate`): the result, and what calibration applied. */
export const estimateCalibrated = Effect.fn("Frugal.estimate")(function*(
  input: WorkloadInput,
  options: CalibratedRequest
): Effect.fn.Return<Calibrated<EstimateResult>, InvalidInput> {
  const source = options.source ?? "workload"
  const calibration = yield* loadCalibration(options.calibration ?? true, options.env)
  const result = yield* estimateWorkloads(input, source, { estimator: calibration.estimator })
  return { result, calibration, workloads: yield* workloadsFor(calibration, input, source) }
})
