/**
 * Which instance counts of a type are worth pricing first for a workload: the fewest that hold it, then doublings
 * while a deadline is not yet met with some slack. Only full nodes are combined (see `IndexedType.fullNode`). Once
 * priced, `CountSearch` goes on to the smallest count that meets the deadline.
 */
import type { Count, Settings } from "./Candidate.ts"
import type { IndexedType } from "./CatalogIndex.ts"
import type { AcceleratorNeed } from "./Requirements.ts"

/** Stop doubling once the base hours leave this much slack under the deadline, for spot's overhead. */
const DEADLINE_SLACK = 1.05
const MAX_GPUS = 1024

/** The most instances of a type a placement may take: a cluster's node count, and 1,024 GPUs in all. */
export const countLimit = (indexed: IndexedType): number =>
  Math.min(indexed.type.maxInstances ?? Number.POSITIVE_INFINITY, Math.floor(MAX_GPUS / indexed.type.acceleratorCount))

/** `instances` full nodes of the type with the estimate for all their GPUs; null when the workload does not fit. */
export const countOf = (indexed: IndexedType, need: AcceleratorNeed, instances: number): Count | null => {
  const gpus = instances * indexed.type.acceleratorCount
  const estimate = need.estimate(gpus)
  return estimate.fits ? { instances, gpus, estimate, hours: estimate.hours } : null
}

/** Whether the counts of a type go on past the first ones, towards the deadline (`CountSearch`). */
export const searchesCounts = (indexed: IndexedType, need: AcceleratorNeed, settings: Settings): boolean =>
  settings.deadlineHours !== null && !need.pinned && !settings.perMonth && indexed.fullNode && indexed.type.acceleratorCount >= 1

/**
 * Instance counts worth pricing first for a type: the fewest that hold the workload (one instance when it has
 * enough GPUs; multiples only of full nodes), then doublings (up to the type's limit) while a deadline is not yet
 * met with some slack.
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
  const limit = countLimit(indexed)
  if (gpus > MAX_GPUS || instances > limit) return []
  const first = need.estimate(gpus)
  if (!first.fits) return []
  const fewest: Count = { instances, gpus, estimate: first, hours: first.hours }
  const counts: Array<Count> = [fewest]
  const deadline = settings.deadlineHours
  if (deadline === null || !searchesCounts(indexed, need, settings)) return counts
  let last = fewest
  while (last.hours * DEADLINE_SLACK > deadline && last.instances < limit) {
    const next = countOf(indexed, need, Math.min(last.instances * 2, limit))
    if (next === null) break
    counts.push(next)
    last = next
  }
  return counts
}
