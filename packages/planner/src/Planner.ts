/**
 * The Effect face of the planner: asks the `PriceCatalog` service for the catalog the workloads can use, then plans with the pure
 * functions. `Planner.plan` fails with `NoFeasiblePlacement` or `PriceCatalogError`; `Planner.planFleet` never fails
 * for an infeasible member (each plan carries its own status).
 */
import type { NoFeasiblePlacement, Workload } from "@frugal/core"
import { PriceCatalog, type PriceCatalogError } from "@frugal/pricing"
import { Effect } from "effect"
import { plan as planPure, type PlanOptions } from "./Plan.ts"
import { type FleetOptions, type FleetPlan, planFleet as planFleetPure } from "./PlanFleet.ts"
import type { Plan as PlanResult } from "./PlanResult.ts"
import { catalogQueryFor, needsWholeCatalog } from "./WorkloadCatalogQuery.ts"

export const plan: (
  workload: Workload,
  options?: PlanOptions
) => Effect.Effect<PlanResult, NoFeasiblePlacement | PriceCatalogError, PriceCatalog> = Effect.fn("Planner.plan")(
  function*(workload: Workload, options?: PlanOptions) {
    const prices = yield* PriceCatalog
    // Only what the workload can use (WorkloadCatalogQuery): the live catalog then fetches only those regions.
    const query = catalogQueryFor([workload])
    const catalog = yield* prices.catalog(query)
    return yield* planPure(workload, catalog, options).pipe(
      Effect.catchTag("NoFeasiblePlacement", (error) =>
        query !== undefined && needsWholeCatalog(error.constraint)
          ? Effect.flatMap(prices.catalog(), (whole) => planPure(workload, whole, options))
          : Effect.fail(error))
    )
  }
)

export const planFleet: (
  workloads: ReadonlyArray<Workload>,
  options?: FleetOptions
) => Effect.Effect<FleetPlan, PriceCatalogError, PriceCatalog> = Effect.fn("Planner.planFleet")(
  function*(workloads: ReadonlyArray<Workload>, options?: FleetOptions) {
    const prices = yield* PriceCatalog
    const query = catalogQueryFor(workloads)
    const fleet = planFleetPure(workloads, yield* prices.catalog(query), options)
    const unexplained = fleet.workloads.some((plan) => plan.status === "infeasible" && needsWholeCatalog(plan.constraint))
    return query !== undefined && unexplained ? planFleetPure(workloads, yield* prices.catalog(), options) : fleet
  }
)
