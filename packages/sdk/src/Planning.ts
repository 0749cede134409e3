/**
 * `frugal plan` / `Frugal.plan`: decode the workload (spec text or object) and ask the planner, with
 * prices from whatever `PriceCatalog` layer is provided. One workload gives a `Plan` or fails with
 * `NoFeasiblePlacement`; a fleet gives a `FleetPlan` in which every workload carries its own status
 * (an infeasible member does not fail the call — `summary.infeasible` counts them).
 */
import * as Effect from "effect/Effect"
import type { InvalidInput, NoFeasiblePlacement } from "@frugal/core"
import { type Estimator, type FleetPlan, type Plan, Planner } from "@frugal/planner"
import type { PriceCatalog, PriceCatalogError } from "@frugal/pricing"
import { decodeWorkloadInput, type WorkloadInput } from "./WorkloadInput.ts"

export interface PlanOptions {
  /** How many ranked options to return per workload (planner default: 20, fleets 3). */
  readonly top?: number | undefined
  /** Replaces core's estimates (calibration from measured throughput: `calibratedEstimator` of `@frugal/runner`). */
  readonly estimator?: Estimator | undefined
}

export type PlanResult = Plan | FleetPlan

export const isFleetPlan = (result: PlanResult): result is FleetPlan => "summary" in result

export const planWorkloads = (
  input: WorkloadInput,
  options: PlanOptions = {},
  source?: string
): Effect.Effect<PlanResult, InvalidInput | NoFeasiblePlacement | PriceCatalogError, PriceCatalog> =>
  Effect.flatMap(decodeWorkloadInput(input, source), (file): Effect.Effect<PlanResult, NoFeasiblePlacement | PriceCatalogError, PriceCatalog> => {
    const planOptions = {
      ...(options.top === undefined ? {} : { top: options.top }),
      ...(options.estimator === undefined ? {} : { estimator: options.estimator })
    }
    return file.kind === "single"
      ? Planner.plan(file.workload, planOptions)
      : Planner.planFleet(file.workloads, planOptions)
  })
