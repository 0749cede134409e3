/**
 * Plans for services stop recommending a single-zone pure-spot placement unless the workload says it tolerates one.
 *
 * A placement the planner prices is one instance type × count in one place and one purchase option, so every spot
 * candidate is pure spot in a single zone: one reclaim takes the whole service down (a >20% bucket means dozens of
 * reclaims a month). A service tolerates that only when its `service:` section says so: spot allowed, a single
 * zone (`zones.min: 1`) and no on-demand base (`onDemandBase: 0`). Every other inference workload is priced without
 * spot here; `frugal service plan` prices the spot/on-demand mix over zones instead. Jobs (training, batch) are
 * not services: they checkpoint and resume, so spot in one zone stays theirs to choose (`constraints.interruptible`).
 */
import type { Workload } from "@frugal/core"

export const toleratesLoneSpot = (workload: Workload): boolean => {
  if (workload.kind !== "inference") return true
  const service = workload.service
  return service !== undefined && service.spot && service.zones.min <= 1 && service.onDemandBase === 0
}
