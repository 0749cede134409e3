/**
 * Which instance counts of a type are worth pricing for a workload: the fewest that hold it, then doublings while a
 * deadline is not yet met. Only full nodes are combined (see `IndexedType.fullNode`).
 */
import type { Count, Settings } from "./Candidate.ts"
import type { IndexedType } from "./CatalogIndex.ts"
import type { AcceleratorNeed } from "./Requirements.ts"

/** Stop doubling once the base hours leave this much slack under the deadline, for spot's overhead. */
const DEADLINE_SLACK = 1.05
const MAX_GPUS = 1024

/**
 * Instance counts worth pricing for a type: the fewest that hold the workload (one instance when it has enough
 * GPUs; multiples only of full nodes), then doublings while a deadline is not yet met with some slack.
 */
export const instanceCounts = (indexed: IndexedType, need: AcceleratorNeed, settings: Settings): ReadonlyArray<Count> => {
  const perInstance = indexed.type.acceleratorCount
  if (!(perInstance > 0)) return []
  if (perInstance < 1) {
    // A fractional GPU (g6f): one instance, a slice of the GPU's memory and compute.
    if (need.minGpus !== 1) return []
    const estimate = need.estimate(1)
    if (!(estimate.memory.perGpuGiB <= indexed.type.acceleratorMemoryGiB)) return []
    return [{ instances: 1, gpus: perInstance, estimate, hours: estimate.hours / perInstance }]
  }
  let instances: number
  let gpus: number
  if (perInstance >= need.minGpus) {
    instances = 1
    gpus = need.pinned ? need.minGpus : perInstance
  } else if (indexed.fullNode) {
    instances = Math.ceil(need.minGpus / perInstance)
    gpus = need.pinned ? need.minGpus : instances * perInstance
  } else {
    return []
  }
  // A cluster partition or pool has so many nodes; EC2 types have no limit known here.
  const maxInstances = indexed.type.maxInstances ?? Number.POSITIVE_INFINITY
  if (gpus > MAX_GPUS || instances > maxInstances) return []
  const first = need.estimate(gpus)
  if (!first.fits) return []
  const counts: Array<Count> = [{ instances, gpus, estimate: first, hours: first.hours }]
  const deadline = settings.deadlineHours
  if (deadline === null || need.pinned || settings.perMonth || !indexed.fullNode) return counts
  let last = first
  while (last.hours * DEADLINE_SLACK > deadline && (instances * 2) * perInstance <= MAX_GPUS && instances * 2 <= maxInstances) {
    instances *= 2
    gpus = instances * perInstance
    last = need.estimate(gpus)
    if (!last.fits) break
    counts.push({ instances, gpus, estimate: last, hours: last.hours })
  }
  return counts
}
