/**
 * `frugal plan` / `Frugal.plan`: decode the workload (spec text or object) and ask the planner, with
 * prices from whatever `PriceCatalog` layer is provided. One workload gives a `Plan` or fails with
 * `NoFeasiblePlacement`; a fleet gives a `FleetPlan` in which every workload carries its own status
 * (an infeasible member does not fail the call — `summary.infeasible` counts them).
 */
import * as Effect from "effect/Effect"
import type { InvalidInput, NoFeasiblePlacement, Workload } from "@frugal/core"
import { type Estimator, type FleetPlan, type Plan, Planner } from "@frugal/planner"
import { InfraCatalog, type PriceCatalog, type PriceCatalogError } from "@frugal/pricing"
import { type Calibration, calibrationJson, loadCalibration, type MeasuredMfu, workloadsFor } from "./Calibration.ts"
import type { Environment } from "./Catalogs.ts"
import { loadInfraProfile } from "./InfraProfileFile.ts"
import { decodeWorkloadInput, type WorkloadInput } from "./WorkloadInput.ts"

export interface PlanOptions {
  /** How many ranked options to return per workload (planner default: 20, fleets 3). */
  readonly top?: number | undefined
  /** Replaces core's estimates (calibration from measured throughput: `calibratedEstimator` of `@frugal/runner`). */
  readonly estimator?: Estimator | undefined
}

export type PlanResult = Plan | FleetPlan

/** What `frugal plan --json` prints: the plan, with the ledger's measured MFU where it was applied. */
export type PlanReport = PlanResult & { readonly calibration?: ReadonlyArray<MeasuredMfu> }

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

export interface CalibratedRequest {
  /** Believe the MFU the ledger measured (default true); false: core's defaults (`--no-calibration`). */
  readonly calibration?: boolean | undefined
  /** Where the input came from, for errors (a file name; default `workload`). */
  readonly source?: string | undefined
  /** The environment the ledger's path is found from (`FRUGAL_HOME`, `XDG_DATA_HOME`). */
  readonly env: Environment
}

/** A result with the calibration it was made under and the workloads it applies to. */
export interface Calibrated<A> {
  readonly result: A
  readonly calibration: Calibration
  readonly workloads: ReadonlyArray<Workload>
}

export interface ProfileRequest {
  /**
   * The infrastructure profile to plan over (`--infra`): only what it can launch is ranked, its Slurm partitions and
   * Kubernetes pools included. Absent: `FRUGAL_INFRA` of `env`, else `$XDG_CONFIG_HOME/frugal/infra.yaml` when it
   * exists, else none (the whole catalog).
   */
  readonly infra?: string | undefined
}

/**
 * The plan under the ledger's calibration (`frugal plan`), over what the infrastructure profile that applies can
 * launch: the result, and what calibration applied.
 */
export const planCalibrated = Effect.fn("Frugal.plan")(function*(
  input: WorkloadInput,
  options: Pick<PlanOptions, "top"> & CalibratedRequest & ProfileRequest
): Effect.fn.Return<Calibrated<PlanResult>, InvalidInput | NoFeasiblePlacement | PriceCatalogError, PriceCatalog> {
  const source = options.source ?? "workload"
  const calibration = yield* loadCalibration(options.calibration ?? true, options.env)
  const profile = yield* loadInfraProfile(options.infra, options.env)
  const planned = planWorkloads(input, { top: options.top, estimator: calibration.estimator }, source)
  const result = yield* (profile.path === null ? planned : Effect.provide(planned, InfraCatalog.layer(profile.profile)))
  return { result, calibration, workloads: yield* workloadsFor(calibration, input, source) }
})

/** The `--json` document of a calibrated result: the result, with `calibration` when measurements applied. */
export const calibratedJson = <A extends object>(calibrated: Calibrated<A>): A & { readonly calibration?: ReadonlyArray<MeasuredMfu> } => ({
  ...calibrated.result,
  ...calibrationJson(calibrated.calibration, calibrated.workloads)
})
