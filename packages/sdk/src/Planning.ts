/**
 * `frugal plan` / `Frugal.plan`: decode the workload (spec text or object) and ask the planner, with
 * prices from whatever `PriceCatalog` layer is provided. One workload gives a `Plan` or fails with
 * `NoFeasiblePlacement`; a fleet gives a `FleetPlan` in which every workload carries its own status
 * (an infeasible member does not fail the call — `summary.infeasible` counts them). Over an infrastructure profile
 * with AWS regions the plan is held to the account's EC2 vCPU quotas there (`planWorkloadsWithinQuotas`), as the
 * `QuotaSource` it is given reports them: Service Quotas with the live catalog, none with an offline one (`Quotas.ts`).
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { InvalidInput, NoFeasiblePlacement, Workload } from "@frugal/core"
import { type Estimator, fitQuotas, type FleetPlan, type Plan, Planner } from "@frugal/planner"
import { InfraCatalog, PriceCatalog, type PriceCatalogError, QuotaSource } from "@frugal/pricing"
import { type Calibration, calibrationJson, loadCalibration, type MeasuredMfu, workloadsFor } from "./Calibration.ts"
import type { Environment } from "./Catalogs.ts"
import { loadInfraProfile } from "./InfraProfileFile.ts"
import { quotasNotCheckedNote } from "./Quotas.ts"
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

/** Said in a fleet's plans: quotas count against what every member launches at once, which is not modelled. */
export const FLEET_QUOTAS_NOTE =
  "EC2 quotas were not checked for the members of a fleet (each counts against the same quota); plan a workload alone to see its options above quota."

const withNotes = (plan: Plan, notes: ReadonlyArray<string>): Plan => notes.length === 0 ? plan : { ...plan, notes: [...plan.notes, ...notes] }

/**
 * `planWorkloads` held to the account's EC2 vCPU quotas in `regions`, as the `QuotaSource` reports them: each
 * option that counts against a known quota carries it (`quota`: code, name, limit, vCPUs needed, whether it fits),
 * and those above it rank after every option that fits, with the quota code in their reason (`fitQuotas`). What the
 * source says about itself (a region it could not ask, quotas not checked at all) goes into the plan's notes. A
 * fleet is planned as `planWorkloads` does, each member's plan noting that its quotas were not checked.
 */
export const planWorkloadsWithinQuotas = (
  input: WorkloadInput,
  options: PlanOptions,
  regions: ReadonlyArray<string>,
  source?: string
): Effect.Effect<PlanResult, InvalidInput | NoFeasiblePlacement | PriceCatalogError, PriceCatalog | QuotaSource> =>
  Effect.gen(function*() {
    const prices = yield* PriceCatalog
    // The vCPUs of every instance type the plan was made over, from the catalogs it was given (no second query).
    const vcpus = new Map<string, number>()
    const recorded = PriceCatalog.of({
      catalog: (query) =>
        Effect.tap(prices.catalog(query), (catalog) =>
          Effect.sync(() => {
            for (const type of catalog.instanceTypes) vcpus.set(type.name, type.vcpus)
          }))
    })
    const result = yield* Effect.provideService(planWorkloads(input, options, source), PriceCatalog, recorded)
    if (isFleetPlan(result)) {
      return { ...result, workloads: result.workloads.map((plan) => plan.status === "ok" ? withNotes(plan, [FLEET_QUOTAS_NOTE]) : plan) }
    }
    const answer = regions.length === 0 ? { quotas: [], notes: [] } : yield* (yield* QuotaSource).ec2VcpuQuotas(regions)
    return withNotes(fitQuotas(result, answer.quotas, (name) => vcpus.get(name)), answer.notes)
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
  /**
   * Where the account's EC2 vCPU quotas come from when the profile has AWS regions: `quotaSourceFor(catalog)` (Service
   * Quotas for the `aws` catalog, none for an offline one), `lazyServiceQuotas`, or any `QuotaSource` layer. Absent:
   * none are asked for, and the plan's notes say they were not checked.
   */
  readonly quotas?: Layer.Layer<QuotaSource> | undefined
}

/**
 * The plan under the ledger's calibration (`frugal plan`), over what the infrastructure profile that applies can
 * launch, held to the account's EC2 vCPU quotas in the profile's AWS regions (`quotas`): the result, and what
 * calibration applied.
 */
export const planCalibrated = Effect.fn("Frugal.plan")(function*(
  input: WorkloadInput,
  options: Pick<PlanOptions, "top"> & CalibratedRequest & ProfileRequest
): Effect.fn.Return<Calibrated<PlanResult>, InvalidInput | NoFeasiblePlacement | PriceCatalogError, PriceCatalog> {
  const source = options.source ?? "workload"
  const calibration = yield* loadCalibration(options.calibration ?? true, options.env)
  const profile = yield* loadInfraProfile(options.infra, options.env)
  const planOptions = { top: options.top, estimator: calibration.estimator }
  // The profile's AWS regions are where quotas apply; without a profile, or with none, nothing is asked.
  const quotaRegions = profile.path === null ? [] : Object.keys(profile.profile.aws?.regions ?? {})
  const planned = quotaRegions.length === 0
    ? planWorkloads(input, planOptions, source)
    : Effect.provide(
      planWorkloadsWithinQuotas(input, planOptions, quotaRegions, source),
      options.quotas ?? QuotaSource.unchecked(quotasNotCheckedNote("none"))
    )
  const result = yield* (profile.path === null ? planned : Effect.provide(planned, InfraCatalog.layer(profile.profile)))
  return { result, calibration, workloads: yield* workloadsFor(calibration, input, source) }
})

/** The `--json` document of a calibrated result: the result, with `calibration` when measurements applied. */
export const calibratedJson = <A extends object>(calibrated: Calibrated<A>): A & { readonly calibration?: ReadonlyArray<MeasuredMfu> } => ({
  ...calibrated.result,
  ...calibrationJson(calibrated.calibration, calibrated.workloads)
})
