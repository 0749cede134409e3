/**
 * The Effect face of the planner: asks the `PriceCatalog` service for the catalog, then plans with the pure
 * functions. `Planner.plan` fails with `NoFeasiblePlacement` or `PriceCatalogError`; `Planner.planFleet` never fails
 * for an infeasible member (each plan carries its own status).
 */
import type { NoFeasiblePlacement, Workload } from "@frugal/core"
import { PriceCatalog, type PriceCatalogError } from "@frugal/pricing"
import { Effect } from "effect"
import { plan as planPure, type PlanOptions } from "./Plan.ts"
import { type FleetOptions, type FleetPlan, planFleet as planFleetPure } from "./PlanFleet.ts"
import type { Plan as PlanResult } from "./PlanResult.ts"

export const plan: (
  workload: Workload,
  options?: PlanOptions
) => Effect.Effect<PlanResult, NoFeasiblePlacement | PriceCatalogError, PriceCatalog> = Effect.fn("Planner.plan")(
  function*(workload: Workload, options?: PlanOptions) {
    const prices = yield* PriceCatalog
    const catalog = yield* prices.catalog()
    return yield* planPure(workload, catalog, options)
  }
)

export const planFleet: (
  workloads: ReadonlyArray<Workload>,
  options?: FleetOptions
) => Effect.Effect<FleetPlan, PriceCatalogError, PriceCatalog> = Effect.fn("Planner.planFleet")(
  function*(workloads: ReadonlyArray<Workload>, options?: FleetOptions) {
    const prices = yield* PriceCatalog
    const catalog = yield* prices.catalog()
    return planFleetPure(workloads, catalog, options)
  }
)
