/**
 * The Promise facade for users who do not use Effect: everything the `frugal` command does, as methods that take
 * the command's inputs and resolve with what its `--json` prints.
 *
 * ```ts
 * import { Frugal } from "@frugal/sdk"
 * await using frugal = Frugal.make()              // embedded price snapshot, no AWS account needed
 * const plan = await frugal.plan(readFileSync("job.yaml", "utf8"))
 * const job = await frugal.run(readFileSync("job.yaml", "utf8"), { source: "job.yaml" })
 * console.log(plan, job.job.state)
 * ```
 *
 * Each method runs the Effect program the CLI runs, on one `ManagedRuntime` built from the price catalog layer, and
 * rejects with the same tagged errors (`InvalidInput`, `NoFeasiblePlacement`, `RemoteServiceFailure`,
 * `PriceCatalogError`, `JobNotFound`, `LedgerError`, …), so `error._tag` tells them apart (docs/sdk.md lists them
 * per method). What only some methods need (the ledger and engines, the AWS SDK, the waste report, services) is
 * imported on their first call. `submit`, `queue` and `cancel` talk to a team's `frugal server` over its HTTP API.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { CatalogCache, type PriceCatalog, type QuotaSource } from "@frugal/pricing"
import type { TrainerEvent } from "@frugal/trainer"
import type { MeasuredMfu } from "./Calibration.ts"
import { catalogLayer, type Environment, withAccountPricingLayer } from "./Catalogs.ts"
import { estimateCalibrated, type EstimateResult } from "./Estimation.ts"
import { calibratedJson, planCalibrated, type PlanReport, type ProfileRequest } from "./Planning.ts"
import { gpuPriceList, type PriceListQuery, type PriceListReport } from "./PriceList.ts"
import { quotaSourceFor } from "./Quotas.ts"
import { type SimulationReport, type SimulationRequest, simulatePolicies } from "./Simulation.ts"
import type { WorkloadInput } from "./WorkloadInput.ts"
import type * as Jobs from "./jobs/index.ts"
import type * as Prices from "./prices/index.ts"
import type * as Reports from "./report/index.ts"
import type * as Scheduler from "./scheduler/index.ts"
import type * as SchedulerApi from "@frugal/scheduler/api"
import type * as Services from "./service/index.ts"

export interface FrugalOptions {
  /**
   * Where prices come from: `embedded` (default: the snapshot, offline), `aws` (live AWS prices through the disk
   * cache), a catalog file's path (JSON or CSV of your own rates), or any `PriceCatalog` layer (`FileCatalog.layer(path)`,
   * `AwsCatalog.layer({...})`, a test double). Named sources get the account pricing (`pricingConfig`, else
   * `FRUGAL_PRICING_CONFIG`, else `$XDG_CONFIG_HOME/frugal/pricing.yaml` when it exists), as on the command line; a
   * layer gets it only when `pricingConfig` is given.
   */
  readonly catalog?: string | Layer.Layer<PriceCatalog, unknown> | undefined
  /** A pricing config (enterprise discount, private rates, spot cap; docs/aws-catalog.md). */
  readonly pricingConfig?: string | undefined
  /**
   * Where `plan` over a profile with AWS regions finds the account's EC2 vCPU quotas. Default, as on the command
   * line: Service Quotas (cached six hours) with the `aws` catalog; none with the embedded snapshot, a catalog file or
   * a catalog layer, and the plan's notes say they were not checked. Any `QuotaSource` layer (`lazyServiceQuotas`, a
   * test double) overrides that.
   */
  readonly quotas?: Layer.Layer<QuotaSource> | undefined
  /**
   * The environment Frugal's settings are read from (`FRUGAL_HOME` for the ledger, `FRUGAL_INFRA`, the engines'
   * `FRUGAL_*` overrides, `XDG_*`, `PATH` for Python). Default: `process.env` as it is when `make` is called.
   */
  readonly env?: Environment | undefined
  /** Believe the MFU the ledger measured on completed runs (default true; false: core's defaults everywhere). */
  readonly calibration?: boolean | undefined
}

export interface CalibrationOption {
  /** Overrides `FrugalOptions.calibration` for this call. */
  readonly calibration?: boolean | undefined
  /** Where the workload came from, for errors (a file name); relative `run` paths resolve next to it. */
  readonly source?: string | undefined
}

/** `frugal estimate --json`: the estimate, with the ledger's measured MFU where it was applied. */
export type EstimateReportJson = EstimateResult & { readonly calibration?: ReadonlyArray<MeasuredMfu> }

export interface RunOptions extends Omit<Jobs.RunRequest, "workload" | "resume"> {
  /** Print nothing and start nothing: resolve with the ranked placements and the first launch (`run --dry-run --json`). */
  readonly dryRun?: boolean | undefined
  /** Each trainer event as it happens (started, steps, checkpoints, interruption, completion). */
  readonly onEvent?: ((event: TrainerEvent, attempt: { readonly sequence: number; readonly id: string }) => void) | undefined
}

export interface ResumeOptions extends Omit<Jobs.ResumeRequest, "jobId"> {
  readonly onEvent?: RunOptions["onEvent"]
}

export interface DrillOptions extends Omit<Jobs.DrillRequest, "env" | "onProgress"> {
  /** Each step of the drill, in words. */
  readonly onProgress?: ((line: string) => void) | undefined
}

export interface RefreshOptions extends Prices.RefreshRequest {
  readonly onEvent?: ((event: Prices.RefreshEvent, progress: { readonly done: number; readonly total: number }) => void) | undefined
}

export interface ServiceApplyOptions extends Omit<Services.ServiceApplyRequest, "env"> {}
export interface ServiceStatusOptions extends Omit<Services.ServiceEngineRequest, "env"> {}

export interface FrugalServices {
  /** `frugal service plan --json`: replica type, zones, on-demand base and spot, monthly cost. */
  readonly plan: (workload: WorkloadInput, options?: Services.ServicePlanRequest) => Promise<Services.ServicePlan>
  /** `frugal service simulate --json`: Frugal's policy and the baselines against request and spot traces. */
  readonly simulate: (workload: WorkloadInput, options: Services.ServiceSimulationRequest) => Promise<Services.ServiceSimulationReport>
  /** `frugal service apply`: create, update or delete the service on an engine, or (dry run) what would be sent. */
  readonly apply: (workload: WorkloadInput, options: ServiceApplyOptions) => Promise<Services.ServiceApplyResult>
  /** `frugal service status --json`: desired and ready replicas of the Auto Scaling group, by market and zone. */
  readonly status: (workload: WorkloadInput, options: ServiceStatusOptions) => Promise<Services.ServiceStatus>
}

export interface Frugal {
  /** `frugal plan --json`: ranked placements for a workload (or a fleet: one plan per workload, with its status). */
  readonly plan: (workload: WorkloadInput, options?: { readonly top?: number | undefined } & ProfileRequest & CalibrationOption) => Promise<PlanReport>
  /** `frugal estimate --json`: memory and compute per accelerator, without prices. */
  readonly estimate: (workload: WorkloadInput, options?: CalibrationOption) => Promise<EstimateReportJson>
  /** `frugal gpus --json`: the GPU price list for a region (default us-east-1, or `all`) and optionally one GPU family. */
  readonly gpus: (query?: PriceListQuery) => Promise<PriceListReport>
  /**
   * `frugal prices refresh --json`: pulls live AWS prices into the cache the `aws` catalog reads. Resolves when all
   * or part was fetched (`status: "partial"` names what was not); rejects with `RemoteServiceFailure` when nothing was.
   */
  readonly refreshPrices: (options?: RefreshOptions) => Promise<Prices.RefreshReport>
  /**
   * `frugal run`: runs the workload where its plan ranks first, failing over down the ranked list; resolves when the
   * job ends, with `frugal status JOB --json` (a failed job resolves too: `job.state` says so). With `dryRun`, starts
   * nothing and resolves with `run --dry-run --json`. A `jobId` the ledger has continues that job.
   */
  readonly run: {
    (workload: WorkloadInput, options: RunOptions & { readonly dryRun: true }): Promise<Jobs.DryRunReport>
    (workload: WorkloadInput, options?: RunOptions): Promise<Jobs.JobStatusReport>
  }
  /** `frugal run --resume JOB`: continues a job from the ledger; resolves like `run`. Unknown job: `JobNotFound`. */
  readonly resume: (jobId: string, options?: ResumeOptions) => Promise<Jobs.JobStatusReport>
  /** `frugal status [JOB] --json`: every job in the ledger, newest first, or one job with its attempts. */
  readonly status: {
    (): Promise<Jobs.JobsStatusReport>
    (jobId: string): Promise<Jobs.JobStatusReport>
  }
  /** `frugal logs JOB --json`: each attempt's recorded events and log lines. */
  readonly logs: (jobId: string, options?: Jobs.LogsRequest) => Promise<Jobs.JobLogsReport>
  /** `frugal drill --json`: interrupts a training run N times and checks it ends bitwise identical. */
  readonly drill: (workload: WorkloadInput, options?: DrillOptions) => Promise<Jobs.DrillJson>
  /** `frugal simulate --json`: spot policies replayed over availability traces. */
  readonly simulate: (request: SimulationRequest) => Promise<SimulationReport>
  /** `frugal report --format json`: where the GPU money went; `partial` and `unavailable` name missing sources. */
  readonly report: (options?: Omit<Reports.ReportRequest, "env">) => Promise<Reports.WasteReportJson>
  /** `frugal report --format md|html|slack`: the same report, rendered. */
  readonly renderReport: (format: Reports.ReportFormat, options?: Omit<Reports.ReportRequest, "env">) => Promise<string>
  /** `frugal service …`: inference services that scale themselves. */
  readonly service: FrugalServices
  /**
   * `frugal submit --json`: queues the workload on `frugal server` (`server`, default FRUGAL_SERVER of `env`; `token`,
   * default FRUGAL_TOKEN), which checks and prices it first; resolves with the job's id, state and why it waits.
   */
  readonly submit: (workload: WorkloadInput, options?: Scheduler.SubmitOptions) => Promise<SchedulerApi.SubmitResponse>
  /** `frugal queue --json`: the jobs the token may see on the server, newest first (optionally one team or state). */
  readonly queue: (options?: Scheduler.ServerOptions & { readonly team?: string | undefined; readonly state?: string | undefined }) => Promise<SchedulerApi.JobsResponse>
  /** `frugal cancel JOB --json`: a queued job at once; a running one checkpoints and stops. */
  readonly cancel: (jobId: string, options?: Scheduler.ServerOptions) => Promise<SchedulerApi.CancelResponse>
  /** Releases the runtime (and any clients the catalog layer holds). */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const importJobs = Effect.promise(() => import("./jobs/index.ts"))
const importPrices = Effect.promise(() => import("./prices/index.ts"))
const importReports = Effect.promise(() => import("./report/index.ts"))
const importServices = Effect.promise(() => import("./service/index.ts"))
const importScheduler = Effect.promise(() => import("./scheduler/index.ts"))

const priceLayer = (options: FrugalOptions, env: Environment): Layer.Layer<PriceCatalog, unknown> => {
  const catalog = options.catalog ?? "embedded"
  if (typeof catalog === "string") return catalogLayer(catalog, { pricingConfig: options.pricingConfig, env })
  return options.pricingConfig === undefined ? catalog : withAccountPricingLayer(catalog, { pricingConfig: options.pricingConfig, env })
}

const make = (options: FrugalOptions = {}): Frugal => {
  const env: Environment = { ...(options.env ?? process.env) }
  const runtime = ManagedRuntime.make(priceLayer(options, env))
  const catalogName = options.catalog ?? "embedded"
  // A catalog layer says nothing of where quotas come from: none unless `quotas` is given (the plan notes it).
  const quotas = options.quotas ?? (typeof catalogName === "string" ? quotaSourceFor(catalogName) : undefined)
  const calibrate = (call: CalibrationOption | undefined) => call?.calibration ?? options.calibration ?? true
  const run = <A, E>(effect: Effect.Effect<A, E, PriceCatalog>): Promise<A> => runtime.runPromise(effect)

  /** Trainer events for a Promise caller, as the supervisor's hook. */
  const hooks = (onEvent: RunOptions["onEvent"]): Jobs.RunHooks =>
    onEvent === undefined ? {} : { onEvent: (attempt, event) => Effect.sync(() => onEvent(event, { sequence: attempt.sequence, id: attempt.id })) }

  /** Runs `program` with the jobs module loaded and the ledger of `env` open. */
  const withLedger = <A, E>(program: (jobs: typeof Jobs) => Effect.Effect<A, E, Jobs.Ledger | PriceCatalog>) =>
    run(Effect.flatMap(importJobs, (jobs) => program(jobs).pipe(Effect.provide(jobs.ledgerLayer(env)))))

  function runWorkload(workload: WorkloadInput, request: RunOptions & { readonly dryRun: true }): Promise<Jobs.DryRunReport>
  function runWorkload(workload: WorkloadInput, request?: RunOptions): Promise<Jobs.JobStatusReport>
  function runWorkload(workload: WorkloadInput, request: RunOptions = {}): Promise<Jobs.DryRunReport | Jobs.JobStatusReport> {
    return withLedger((jobs) =>
      Effect.gen(function*() {
        const start = yield* jobs.startJob({ ...request, workload }, env).pipe(Effect.provide(jobs.lazyServiceQuotas))
        if (start._tag === "Continue") {
          if (request.dryRun !== true) {
            yield* jobs.resumeJob({
              jobId: start.jobId,
              infra: request.infra,
              pricePerHourUsd: request.pricePerHourUsd,
              workload: start.workload,
              fromScratch: request.fromScratch
            }, env, hooks(request.onEvent))
          }
          return yield* jobs.jobStatusReport(start.jobId)
        }
        const prepared = start.prepared
        if (request.dryRun === true) {
          const ledger = yield* jobs.Ledger
          return jobs.dryRunReport(prepared, ledger.path, jobs.jobLogDirectory(env, prepared.jobId))
        }
        yield* jobs.runPrepared(prepared, env, hooks(request.onEvent), { fromScratch: request.fromScratch })
        return yield* jobs.jobStatusReport(prepared.jobId)
      }))
  }

  function status(): Promise<Jobs.JobsStatusReport>
  function status(jobId: string): Promise<Jobs.JobStatusReport>
  function status(jobId?: string): Promise<Jobs.JobsStatusReport | Jobs.JobStatusReport> {
    return jobId === undefined ? withLedger((jobs) => jobs.jobsStatusReport) : withLedger((jobs) => jobs.jobStatusReport(jobId))
  }

  /** The server and token: given, or FRUGAL_SERVER and FRUGAL_TOKEN of this instance's environment. */
  const serverOf = <R extends Scheduler.ServerOptions>(request: R): R => ({
    ...request,
    server: request.server ?? env["FRUGAL_SERVER"],
    token: request.token ?? env["FRUGAL_TOKEN"]
  })

  const reportOf = (request: Omit<Reports.ReportRequest, "env">) =>
    Effect.flatMap(importReports, (reports) => Effect.map(reports.buildWasteReport({ ...request, env }), (report) => ({ reports, report })))

  return {
    plan: (workload, call = {}) =>
      run(Effect.map(planCalibrated(workload, { top: call.top, infra: call.infra, quotas, calibration: calibrate(call), source: call.source, env }), calibratedJson)),
    estimate: (workload, call = {}) =>
      run(Effect.map(estimateCalibrated(workload, { calibration: calibrate(call), source: call.source, env }), calibratedJson)),
    gpus: (query = {}) => run(gpuPriceList(query)),
    refreshPrices: (request = {}) =>
      run(Effect.flatMap(importPrices, (prices) =>
        prices.refreshPriceCache(request, {
          onEvent: request.onEvent === undefined ? undefined : (event, progress) => Effect.sync(() => request.onEvent?.(event, progress))
        }).pipe(
          // Partial is a result (what was fetched is cached and used); nothing fetched is a failure.
          Effect.flatMap((outcome) => outcome.failure?._tag === "RemoteServiceFailure" ? Effect.fail(outcome.failure) : Effect.succeed(outcome.report)),
          Effect.provide(CatalogCache.layer)
        ))),
    run: runWorkload,
    resume: (jobId, request = {}) =>
      withLedger((jobs) =>
        Effect.flatMap(
          jobs.resumeJob({
            jobId,
            infra: request.infra,
            pricePerHourUsd: request.pricePerHourUsd,
            workload: request.workload,
            fromScratch: request.fromScratch
          }, env, hooks(request.onEvent)),
          () => jobs.jobStatusReport(jobId)
        )),
    status,
    logs: (jobId, request = {}) =>
      run(Effect.flatMap(importJobs, (jobs) => jobs.jobLogs(jobId, request).pipe(Effect.provide(jobs.logsLayer(env))))),
    drill: (workload, request = {}) =>
      run(Effect.flatMap(importJobs, (jobs) =>
        Effect.map(
          jobs.drillWorkload(workload, {
            ...request,
            env,
            onProgress: request.onProgress === undefined ? undefined : (line) => Effect.sync(() => request.onProgress?.(line))
          }),
          jobs.drillJson
        ))),
    simulate: (request) => run(simulatePolicies(request)),
    report: (request = {}) => run(Effect.map(reportOf(request), ({ reports, report }) => reports.wasteReportJson(report))),
    renderReport: (format, request = {}) => run(Effect.map(reportOf(request), ({ reports, report }) => reports.renderReport(report, format))),
    service: {
      plan: (workload, request = {}) => run(Effect.flatMap(importServices, (services) => services.servicePlanReport(workload, request))),
      simulate: (workload, request) => run(Effect.flatMap(importServices, (services) => services.serviceSimulation(workload, request))),
      apply: (workload, request) => run(Effect.flatMap(importServices, (services) => services.serviceApply(workload, { ...request, env }))),
      status: (workload, request) => run(Effect.flatMap(importServices, (services) => services.serviceStatus(workload, { ...request, env })))
    },
    submit: (workload, request = {}) =>
      run(Effect.flatMap(importScheduler, (scheduler) => scheduler.submitWorkload(workload, serverOf(request)))),
    queue: (request = {}) => run(Effect.flatMap(importScheduler, (scheduler) => scheduler.listQueue(serverOf(request)))),
    cancel: (jobId, request = {}) => run(Effect.flatMap(importScheduler, (scheduler) => scheduler.cancelQueued(jobId, serverOf(request)))),
    dispose: () => runtime.dispose(),
    [Symbol.asyncDispose]: () => runtime.dispose()
  }
}

export const Frugal = { make } as const
