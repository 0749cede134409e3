/**
 * What a workload needs from each accelerator: the smallest GPU count that holds it (core `minimumGpus`, or the
 * count the user pinned in `resources.accelerators`) and the estimate for any GPU count, memoised per workload so
 * the many instance types sharing an accelerator and count cost one estimate.
 *
 * Accelerators that do not run CUDA (Radeon-V520, Gaudi, Trainium, Trainium2, Inferentia, Inferentia2) are left out
 * unless the workload names them in `resources.accelerators`: a PyTorch/CUDA model or serving stack does not run on
 * them as it is (Neuron needs its own compilation, the V520 ROCm), so placing an unnamed workload there would be a
 * cheap plan that cannot run. A workload that names one (Neuron serving on Inferentia2) gets it.
 */
import {
  type AcceleratorSpec,
  estimatePlacement,
  minimumGpus,
  type MinimumGpusOptions,
  type PlacementEstimate,
  type Workload
} from "@frugal/core"

/** The two core estimate functions the planner calls; tests and calibration may pass their own. */
export interface Estimator {
  readonly minimumGpus: (workload: Workload, accelerator: AcceleratorSpec, options?: MinimumGpusOptions) => number | null
  readonly estimatePlacement: (workload: Workload, accelerator: AcceleratorSpec, gpus: number) => PlacementEstimate
}

export const coreEstimator: Estimator = { minimumGpus, estimatePlacement }

export interface AcceleratorNeed {
  readonly spec: AcceleratorSpec
  /** Smallest total GPU count that holds the workload (or the pinned count). */
  readonly minGpus: number
  /** True when the user pinned the count in `resources.accelerators`. */
  readonly pinned: boolean
  readonly estimate: (gpus: number) => PlacementEstimate
}

export interface Needs {
  /** Accelerators the workload may use and that can hold it, by canonical name. */
  readonly byAccelerator: ReadonlyMap<string, AcceleratorNeed>
  /** Accelerators the user allowed but on which the workload cannot run (too small, not CUDA, pinned too few). */
  readonly unable: ReadonlyArray<string>
  /** Accelerators excluded by `resources.accelerators`. */
  readonly excluded: ReadonlyArray<string>
  /** Non-CUDA accelerators left out because the workload does not name them (sorted). */
  readonly nonCudaExcluded: ReadonlyArray<string>
  /**
   * Drops the memoised estimates once the plan is made: a fleet keeps a candidate of each member (and so its
   * `AcceleratorNeed`) to the end, and the estimates of every GPU count it tried need not live that long.
   */
  readonly forgetEstimates: () => void
}

interface EstimateCache {
  memo: Map<number, PlacementEstimate> | null
}

// Built outside `workloadNeeds` so that the closure holds only what it uses: a kept candidate's `need` must not keep
// the workload's other accelerators alive.
const memoisedEstimate = (
  estimator: Estimator,
  workload: Workload,
  spec: AcceleratorSpec,
  cache: EstimateCache
): (gpus: number) => PlacementEstimate => {
  return (gpus) => {
    let found = cache.memo?.get(gpus)
    if (found === undefined) {
      found = estimator.estimatePlacement(workload, spec, gpus)
      cache.memo?.set(gpus, found)
    }
    return found
  }
}

export const workloadNeeds = (workload: Workload, accelerators: ReadonlyArray<AcceleratorSpec>, estimator: Estimator): Needs => {
  const requested = workload.resources?.accelerators
  const pins = new Map<string, number | null>(requested?.map((r) => [r.accelerator, r.count]) ?? [])
  const byAccelerator = new Map<string, AcceleratorNeed>()
  const unable: Array<string> = []
  const excluded: Array<string> = []
  const nonCudaExcluded: Array<string> = []
  const caches: Array<EstimateCache> = []
  for (const spec of accelerators) {
    if (requested !== undefined && !pins.has(spec.name)) {
      excluded.push(spec.name)
      continue
    }
    const named = pins.has(spec.name)
    if (!spec.cuda && !named) {
      nonCudaExcluded.push(spec.name)
      continue
    }
    const sizing: MinimumGpusOptions = { allowNonCuda: named }
    const cache: EstimateCache = { memo: new Map() }
    caches.push(cache)
    const estimate = memoisedEstimate(estimator, workload, spec, cache)
    const pinned = pins.get(spec.name) ?? null
    if (pinned !== null) {
      const fits = estimator.minimumGpus(workload, spec, sizing) !== null && estimate(pinned).fits
      if (fits) byAccelerator.set(spec.name, { spec, minGpus: pinned, pinned: true, estimate })
      else unable.push(spec.name)
      continue
    }
    const min = estimator.minimumGpus(workload, spec, sizing)
    if (min === null) unable.push(spec.name)
    else byAccelerator.set(spec.name, { spec, minGpus: min, pinned: false, estimate })
  }
  return {
    byAccelerator,
    unable,
    excluded,
    nonCudaExcluded: nonCudaExcluded.sort(),
    forgetEstimates: () => {
      for (const cache of caches) cache.memo = null
    }
  }
}
