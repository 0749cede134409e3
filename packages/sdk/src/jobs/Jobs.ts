/**
 * Running jobs (`frugal run`, `Frugal.run`): a workload becomes a job whose placements come from its plan. The plan
 * is made over what the infrastructure profile can launch (and the account's EC2 quotas); its ranked options become
 * the job's placements on the engines in use (LaunchPlan); the first one is what the first attempt launches, the
 * rest are the failover order, and the spot policy (`frugal` unless told) chooses every relaunch. The job's policy
 * goes into the ledger with it, so `--resume` needs only the id.
 *
 * Without a plan (a local run with no `--policy`) the job runs on this machine at `--price-per-hour` (or the
 * profile's `local.hourlyPriceUsd`) and relaunches where it ran.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { type InfraProfile, InvalidInput, NoFeasiblePlacement, type Workload } from "@frugal/core"
import { catalogQueryFor, type Estimator, fitQuotas, type OnlinePolicyName, plan as planPure } from "@frugal/planner"
import { InfraCatalog, PriceCatalog, type PriceCatalogError, QuotaSource } from "@frugal/pricing"
import {
  type AttemptRequest,
  attemptHorizon,
  calibratedEstimator,
  DEFAULT_RETRY_BUDGET,
  type EngineLaunch,
  type EngineName,
  jobDirectory,
  type JobPolicy,
  jobPolicy,
  type JobSpec,
  launchPlan,
  Ledger,
  type LedgerError,
  localPlacement,
  type RankedPlacement
} from "@frugal/runner"
import type { PythonNotFound } from "@frugal/trainer"
import type { WorkloadInput } from "../WorkloadInput.ts"
import { configuredEngines, type EngineSetup, setUpEngines } from "./EngineSetup.ts"
import { loadInfraProfile, type LoadedProfile } from "../InfraProfileFile.ts"
import { launchFor, singleWorkload } from "./TrainerLaunch.ts"

export interface JobRequest {
  /** The workload: spec text (YAML or JSON) or an object, holding one workload. */
  readonly workload: WorkloadInput
  /** The file it came from: relative `run` paths resolve next to it, and errors name it. */
  readonly source?: string | undefined
  readonly jobId?: string | undefined
  /** One engine only (`--runner`); absent: every engine the profile configures, else this machine. */
  readonly runner?: EngineName | undefined
  /** The spot policy choosing relaunches (`frugal` whenever the job has a plan). */
  readonly policy?: OnlinePolicyName | undefined
  /** Plan a local run too, charging its attempts at the plan's prices. */
  readonly placementFromPlan?: boolean | undefined
  /** What this machine (or a cluster the environment names) costs per hour. */
  readonly pricePerHourUsd?: number | undefined
  /** `--infra FILE`; absent: FRUGAL_INFRA, else the XDG default, else none. */
  readonly infra?: string | undefined
}

export interface PreparedJob {
  readonly jobId: string
  readonly workload: Workload
  readonly spec: JobSpec
  /** Null for a job that stays where it started (a local run without a plan). */
  readonly policy: JobPolicy | null
  readonly placements: ReadonlyArray<RankedPlacement>
  readonly excluded: ReadonlyArray<{ readonly option: string; readonly why: string }>
  readonly profile: LoadedProfile
  readonly engines: EngineSetup
  /** What the catalog and the quota lookup said about themselves. */
  readonly notes: ReadonlyArray<string>
}

/** The `run --dry-run --json` document (ARCHITECTURE.md). */
export interface DryRunReport {
  readonly job: {
    readonly id: string
    readonly name: string
    readonly runner: EngineName
    readonly ledger: string
    readonly launch: JobSpec["launch"]
    readonly policy: OnlinePolicyName | null
    readonly deadlineHours: number | null
    readonly catalog: string | null
    readonly infra: string | null
  }
  readonly placements: ReadonlyArray<{
    readonly runner: EngineName
    readonly pool: string | null
    readonly instanceType: string
    readonly region: string
    readonly availabilityZone: string | null
    readonly purchaseOption: string
    readonly hourlyPriceUsd: number
    readonly instanceCount: number
    readonly gpusPerInstance: number
    readonly expectedHours: number
    readonly expectedCostUsd: number
  }>
  readonly excluded: ReadonlyArray<{ readonly option: string; readonly why: string }>
  readonly firstLaunch: EngineLaunch["request"]
  readonly notes: ReadonlyArray<string>
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const flagError = (flag: string, expected: string, actual?: string) =>
  new InvalidInput({ source: flag, issues: [{ path: flag, expected, ...(actual === undefined ? {} : { actual }) }] })

/** A job id from the workload's name and the time: `llama-7b-20261204-101500-ab12`. */
export const newJobId = (name: string): Effect.Effect<string> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-")
    return `${name}-${stamp}-${randomBytes(2).toString("hex")}`
  })

/** Checks a job id given by a user (`--job-id`, `--resume`). */
export const checkJobId = (flag: string, id: string): Effect.Effect<string, InvalidInput> =>
  JOB_ID.test(id) ? Effect.succeed(id) : Effect.fail(flagError(flag, "a job id of letters, digits, '.', '_' and '-' (at most 128)", id))

/** The plan of the workload over what the profile can launch, held to the account's quotas; and its catalog. */
const planOverProfile = (
  workload: Workload,
  estimator: Estimator | undefined,
  quotaRegions: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const prices = yield* PriceCatalog
    const catalog = yield* prices.catalog(catalogQueryFor([workload]))
    const planned = yield* planPure(workload, catalog, { top: 200, estimator })
    const quotas = yield* QuotaSource
    const answer = quotaRegions.length === 0 ? { quotas: [], notes: [] } : yield* quotas.ec2VcpuQuotas(quotaRegions)
    const vcpus = new Map(catalog.instanceTypes.map((type) => [type.name, type.vcpus]))
    const plan = fitQuotas(planned, answer.quotas, (name) => vcpus.get(name))
    return { plan, catalog, quotas: answer.quotas, notes: answer.notes }
  })

/** Everything a new job needs, checked before anything runs. */
export const prepareJob = Effect.fn("Jobs.prepare")(function*(
  request: JobRequest,
  env: Readonly<Record<string, string | undefined>>
): Effect.fn.Return<
  PreparedJob,
  InvalidInput | NoFeasiblePlacement | PriceCatalogError | PythonNotFound | LedgerError,
  PriceCatalog | Ledger | QuotaSource
> {
  const price = request.pricePerHourUsd
  if (price !== undefined && !(price >= 0 && price <= 1e6)) {
    return yield* flagError("--price-per-hour", "a USD amount per hour from 0 to 1,000,000", String(price))
  }
  const workload = yield* singleWorkload(request.workload, request.source)
  const jobId = request.jobId === undefined ? yield* newJobId(workload.name) : yield* checkJobId("--job-id", request.jobId)
  const profile = yield* loadInfraProfile(request.infra, env)
  const names = request.runner === undefined ? configuredEngines(profile.profile, env) : [request.runner]
  const localOnly = names.length === 1 && names[0] === "local"
  const planned = !localOnly || request.policy !== undefined || request.placementFromPlan === true
  const localPrice = price ?? profile.profile.local?.hourlyPriceUsd ?? 0
  if (planned && localOnly && request.pricePerHourUsd !== undefined) {
    return yield* flagError("--price-per-hour", "no --price-per-hour with --placement-from-plan or --policy (the plan prices each attempt)")
  }
  const engines = yield* setUpEngines(profile.profile, env, names, {
    pricePerHourUsd: localOnly ? localPrice : price,
    interruptible: workload.constraints.interruptible
  })
  const launch = yield* launchFor(request.source, workload, join(jobDirectory(env, jobId), "checkpoints"), env)
  const base: Omit<JobSpec, "placement"> = {
    name: workload.name,
    launch,
    retry: DEFAULT_RETRY_BUDGET,
    checkpointEverySeconds: null,
    precision: workload.kind === "batch" ? null : workload.model.precision,
    ...(profile.path === null && engines.profile.aws === undefined ? {} : { infra: engines.profile })
  }
  if (!planned) {
    const placement = localPlacement(localPrice)
    return {
      jobId,
      workload,
      spec: { ...base, placement },
      policy: null,
      placements: [{ placement, baseHours: 0, expectedHours: 0, expectedCostUsd: 0 }],
      excluded: [],
      profile,
      engines,
      notes: []
    }
  }
  const ledger = yield* Ledger
  const estimator = calibratedEstimator(yield* ledger.measuredThroughput)
  const launchable = engines.profile
  const quotaRegions = names.includes("ec2") ? Object.keys(launchable.aws?.regions ?? {}) : []
  // Over what the profile can launch (its subnets' zones, its clusters as priced capacity); a local run planned for
  // its prices, or a cluster known only from the environment, plans over the whole catalog.
  const launchesFromProfile = !localOnly && (launchable.aws !== undefined || launchable.slurm !== undefined || launchable.kubernetes !== undefined)
  const { plan, catalog, notes, quotas } = yield* (launchesFromProfile
    ? Effect.provide(planOverProfile(workload, estimator, quotaRegions), InfraCatalog.layer(launchable))
    : planOverProfile(workload, estimator, quotaRegions))
  const ranked = launchPlan({ plan, catalog, profile: launchable, engines: engines.names, unprofiled: engines.unprofiled, quotas, workload })
  const [first, ...rest] = ranked.placements
  const quotaBound = ranked.excluded.find((entry) => entry.why.startsWith("above quota "))
  if (first === undefined && quotaBound !== undefined) {
    // Everything the engines could launch is above the account's quotas: name the quota to raise.
    return yield* new NoFeasiblePlacement({
      workload: workload.name,
      constraint: `quota ${/above quota (\S+)/.exec(quotaBound.why)?.[1] ?? ""}`,
      detail: `every placement the profile can launch is above the account's EC2 vCPU quota: ${quotaBound.option}: ${quotaBound.why}; request an increase in Service Quotas`
    })
  }
  if (first === undefined) {
    return yield* flagError(
      request.infra === undefined ? "--runner" : "--infra",
      `a placement the engines in use (${engines.names.join(", ")}) can launch`,
      ranked.excluded.slice(0, 3).map((e) => `${e.option}: ${e.why}`).join("; ") || "the plan has no option"
    )
  }
  const placements: readonly [RankedPlacement, ...Array<RankedPlacement>] = [first, ...rest]
  const policy = jobPolicy(workload, plan, placements, launchable, { policy: request.policy ?? "frugal" })
  return {
    jobId,
    workload,
    spec: { ...base, launch, placement: first.placement },
    policy,
    placements,
    excluded: ranked.excluded,
    profile,
    engines,
    notes
  }
})

/** The `run --dry-run --json` document of a prepared job. */
export const dryRunReport = (prepared: PreparedJob, ledgerPath: string, logDirectory: string): DryRunReport => {
  const first = prepared.spec.placement
  const engineName = first.runner ?? "local"
  const engine = prepared.engines.engines[engineName]
  const firstRequest = firstAttemptRequest(prepared, logDirectory)
  return {
    job: {
      id: prepared.jobId,
      name: prepared.workload.name,
      runner: engineName,
      ledger: ledgerPath,
      launch: prepared.spec.launch,
      policy: prepared.policy?.policy ?? null,
      deadlineHours: prepared.policy?.deadlineHours ?? null,
      catalog: prepared.policy?.catalog ?? null,
      infra: prepared.profile.path
    },
    placements: prepared.placements.map((entry) => ({
      runner: entry.placement.runner ?? "local",
      pool: entry.placement.pool ?? null,
      instanceType: entry.placement.instanceType,
      region: entry.placement.region,
      availabilityZone: entry.placement.availabilityZone,
      purchaseOption: entry.placement.purchaseOption,
      hourlyPriceUsd: entry.placement.hourlyPriceUsd,
      instanceCount: entry.placement.instanceCount,
      gpusPerInstance: entry.placement.acceleratorsPerInstance,
      expectedHours: Math.round(entry.expectedHours * 100) / 100,
      expectedCostUsd: Math.round(entry.expectedCostUsd * 100) / 100
    })),
    excluded: prepared.excluded,
    firstLaunch: engine === undefined ? { engine: engineName, error: "engine not configured" } : { engine: engineName, ...asRecord(engine.describeLaunch(firstRequest).request) },
    notes: prepared.notes
  }
}

/** The engine's text for the first attempt (`run --dry-run` without `--json`). */
export const dryRunText = (prepared: PreparedJob, logDirectory: string): string => {
  const first = prepared.spec.placement
  const engine = prepared.engines.engines[first.runner ?? "local"]
  if (engine === undefined) return "# engine not configured"
  return engine.describeLaunch(firstAttemptRequest(prepared, logDirectory)).text
}

/** What the supervisor will ask the engine for the first attempt: the whole job's hours there, the whole deadline. */
const firstAttemptRequest = (prepared: PreparedJob, logDirectory: string): AttemptRequest => {
  const horizon = prepared.policy === null ? null : attemptHorizon(prepared.policy, prepared.spec.placement, [], null, Date.now())
  return {
    jobId: prepared.jobId,
    attemptId: `${prepared.jobId}-1`,
    placement: prepared.spec.placement,
    launch: prepared.spec.launch,
    checkpointEverySeconds: null,
    logPath: join(logDirectory, `${prepared.jobId}-1.log`),
    ...(horizon === null ? {} : { horizon })
  }
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value } : { request: value }

/** The engines a job in the ledger used, for `--resume`: its placements' and its attempts'. */
export const jobEngineNames = (policy: JobPolicy | null, spec: JobSpec, attempts: ReadonlyArray<{ readonly runner: string }>): ReadonlyArray<EngineName> => {
  const names = new Set<EngineName>([spec.placement.runner ?? "local"])
  for (const entry of policy?.placements ?? []) names.add(entry.placement.runner ?? "local")
  for (const attempt of attempts) {
    if (attempt.runner === "local" || attempt.runner === "slurm" || attempt.runner === "kubernetes" || attempt.runner === "ec2") names.add(attempt.runner)
  }
  return [...names]
}

export type { InfraProfile }
