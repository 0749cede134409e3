/**
 * What the planner asks the price catalog for: only the regions, accelerators and purchase options the workloads
 * can use, so that the live AWS catalog fetches (and the planner indexes) no more than the plan needs. A workload
 * that names no regions needs every region; a fleet needs the union of its members. Pure.
 *
 * The narrowing never changes a feasible plan's placements: the planner itself never places a workload outside
 * its `constraints.regions`, `resources.accelerators` or allowed purchase options. On-demand offers are always
 * asked for: the saving against on-demand, owned savings plans and the account's spot cap are measured against them.
 * What it can change is the *reason* an infeasible plan gives (a type that exists only outside the named regions
 * is not in the narrowed catalog), so `Planner` re-plans with the whole catalog before naming such a reason.
 */
import type { PurchaseOption, Workload } from "@frugal/core"
import type { CatalogQuery } from "@frugal/pricing"
import { PURCHASE_ORDER } from "./Candidate.ts"

/** Purchase options a workload may use: `resources.purchaseOptions` (default all), spot only when interruptible. */
const usablePurchaseOptions = (workload: Workload): ReadonlyArray<PurchaseOption> =>
  (workload.resources?.purchaseOptions ?? PURCHASE_ORDER).filter((option) => option !== "spot" || workload.constraints.interruptible)

/** The union of `pick` over the workloads, or undefined (no narrowing) when any of them leaves it open. */
const unionOf = <A>(workloads: ReadonlyArray<Workload>, pick: (workload: Workload) => ReadonlyArray<A> | undefined): Array<A> | undefined => {
  const union = new Set<A>()
  for (const workload of workloads) {
    const values = pick(workload)
    if (values === undefined) return undefined
    for (const value of values) union.add(value)
  }
  return [...union]
}

/** The catalog query for a workload or a fleet; undefined when nothing can be left out. */
export const catalogQueryFor = (workloads: ReadonlyArray<Workload>): CatalogQuery | undefined => {
  if (workloads.length === 0) return undefined
  const regions = unionOf(workloads, (w) => w.constraints.regions)?.sort()
  const accelerators = unionOf(workloads, (w) => w.resources?.accelerators?.map((request) => request.accelerator))?.sort()
  const usable = new Set<PurchaseOption>(["on-demand", ...(unionOf(workloads, usablePurchaseOptions) ?? [])])
  const purchaseOptions = usable.size === PURCHASE_ORDER.length ? undefined : PURCHASE_ORDER.filter((option) => usable.has(option))
  if (regions === undefined && accelerators === undefined && purchaseOptions === undefined) return undefined
  return {
    ...(regions === undefined ? {} : { regions }),
    ...(accelerators === undefined ? {} : { accelerators }),
    ...(purchaseOptions === undefined ? {} : { purchaseOptions })
  }
}

/**
 * Whether an infeasible plan's binding constraint can only be trusted from the whole catalog. A missed deadline or
 * budget is decided by the placements priced, which the narrowing keeps; any other reason (no region offers the
 * type, no accelerator holds the model, the purchase options exclude what exists) depends on what was left out.
 */
export const needsWholeCatalog = (constraint: string): boolean =>
  constraint !== "constraints.deadlineHours" && constraint !== "constraints.budgetUsd"
