/**
 * `frugal run` behind its flags: build the job (or find it in the ledger), then supervise it to the end,
 * printing progress. Loaded lazily: it pulls in SQLite and child processes, which `frugal plan` never needs.
 */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { InvalidInput } from "@frugal/core"
import {
  type AttemptRecord,
  DEFAULT_RETRY_BUDGET,
  type JobOutcome,
  type JobSpec,
  jobDirectory,
  Ledger,
  LocalRunner,
  localPlacement,
  policyPlacement,
  type Runner,
  Supervisor,
  type SuperviseOptions
} from "@frugal/runner"
import type { TrainerEvent } from "@frugal/trainer"
import type { ClusterRunnerName } from "./ClusterEngine.ts"
import { duration, usd } from "./Format.ts"
import { launchFor, readSingleWorkload } from "./LoadLaunch.ts"
import { catalogLayer } from "../../Catalogs.ts"
import { loadCalibration } from "../../MeasuredMfu.ts"
import {
  describePlanPolicy,
  loadPlanPolicy,
  type PlanPolicy,
  planPolicy,
  policyNamed,
  policyOptions,
  savePlanPolicy
} from "./PlanPlacement.ts"

export interface RunInput {
  readonly file: Option.Option<string>
  readonly runner: string
  readonly dryRun: boolean
  readonly jobId: Option.Option<string>
  readonly resume: Option.Option<string>
  readonly pricePerHour: Option.Option<number>
  /** Spot policy for relaunches; given, it implies `placementFromPlan`. */
  readonly policy?: Option.Option<PlanPolicy["policy"]>
  readonly placementFromPlan?: boolean
  readonly catalog?: string
}

/** The job ended without completing (retry budget spent, or the policy stopped it); exit code 1. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId} failed: ${this.detail}`
  }
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const flagError = (flag: string, expected: string, actual?: string) =>
  new InvalidInput({ source: flag, issues: [{ path: flag, expected, ...(actual === undefined ? {} : { actual }) }] })

const newJobId = (name: string) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-")
    return `${name}-${stamp}-${randomBytes(2).toString("hex")}`
  })

const progress = (): Pick<SuperviseOptions, "onEvent" | "onAttemptEnd"> => {
  let lastStepLine = 0
  let maxSteps: number | null = null
  const line = (attempt: AttemptRecord, event: TrainerEvent): string | null => {
    const tag = `[attempt ${attempt.sequence}]`
    switch (event.event) {
      case "started":
        maxSteps = event.maxSteps ?? maxSteps
        return `${tag} started on ${placementText(attempt)} (pid ${event.pid}, ${event.device}, ${event.precision})${
          event.resumedFromStep === null ? ", fresh" : `, resumed from step ${event.resumedFromStep}`
        }`
      case "step": {
        const now = Date.now()
        if (now - lastStepLine < 2000 && event.step !== maxSteps) return null
        lastStepLine = now
        const loss = event.loss === null ? "n/a" : event.loss.toFixed(4)
        return `${tag} step ${event.step}${maxSteps === null ? "" : `/${maxSteps}`}  loss ${loss}  ${
          Math.round(event.tokensPerSecond).toLocaleString("en-US")
        } tokens/s`
      }
      case "checkpoint":
        return `${tag} checkpoint at step ${event.step} (${(event.bytes / 1e6).toFixed(1)} MB, loop blocked ${
          event.blockingSeconds.toFixed(3)
        } s)`
      case "interrupted":
        return `${tag} interrupted by ${event.reason} at step ${event.step}, final checkpoint ${event.checkpointStep ?? "none"}`
      case "completed":
        return `${tag} completed at step ${event.step}, weights sha256 ${event.weightsSha256}`
    }
  }
  return {
    onEvent: (attempt, event) => {
      const text = line(attempt, event)
      return text === null ? Effect.void : Console.log(text)
    },
    onAttemptEnd: (attempt) =>
      Console.log(
        `[attempt ${attempt.sequence}] ${attempt.exitDetail ?? "ended"} after ${
          duration((attempt.endedAtMillis ?? attempt.lastSeenAtMillis) - attempt.startedAtMillis)
        }, cost ${usd(attempt.costUsd)}`
      )
  }
}

const placementText = (attempt: AttemptRecord): string => {
  const p = attempt.placement
  return p.purchaseOption === "local"
    ? p.instanceType
    : `${p.instanceType} ${p.purchaseOption} in ${p.availabilityZone ?? p.region} at ${usd(p.hourlyPriceUsd)}/h`
}

/** The policy's relaunches (`--policy`), announced as they are chosen. */
const withPolicy = (options: SuperviseOptions, settings: PlanPolicy | null): SuperviseOptions => {
  if (settings === null) return options
  const choose = policyPlacement(policyNamed(settings.policy), {
    ...policyOptions(settings),
    onWait: (hours) =>
      Console.log(
        `[policy ${settings.policy}] no spot capacity known now and the deadline has room: waiting ${
          Math.round(hours * 60)
        } min before asking again`
      )
  })
  return {
    ...options,
    nextPlacement: (context) =>
      Effect.tap(choose(context), (next) =>
        Console.log(
          next === null
            ? `[policy ${settings.policy}] stop`
            : `[policy ${settings.policy}] next attempt on ${next.purchaseOption} (${
              next.availabilityZone ?? next.region
            }, ${usd(next.hourlyPriceUsd)}/h)`
        ))
  }
}

const summary = (outcome: JobOutcome): ReadonlyArray<string> => [
  "",
  `job ${outcome.jobId}: ${outcome.status}${outcome.detail === null ? "" : ` (${outcome.detail})`}`,
  `  attempts: ${outcome.attempts.length} (${outcome.attempts.map((a) => a.exitReason ?? "open").join(", ")})`,
  `  final step: ${outcome.finalStep ?? "n/a"}`,
  ...(outcome.weightsSha256 === null ? [] : [`  weights sha256: ${outcome.weightsSha256}`]),
  `  cost: ${usd(outcome.costUsd)}`,
  `  details: frugal status ${outcome.jobId}`
]

export const run = (input: RunInput) =>
  Effect.gen(function*() {
    const engineName = input.runner
    const cluster = isClusterRunner(engineName)
      ? yield* Effect.flatMap(Effect.promise(() => import("./ClusterEngine.ts")), (m) => m.clusterEngine(engineName, process.env))
      : null
    const price = Option.getOrElse(input.pricePerHour, () => 0)
    if (!(price >= 0)) return yield* flagError("--price-per-hour", "a non-negative USD amount per hour", String(price))
    const policyName = input.policy ?? Option.none()
    const fromPlan = input.placementFromPlan === true || Option.isSome(policyName)
    if (fromPlan && Option.isSome(input.pricePerHour)) {
      return yield* flagError("--price-per-hour", "no --price-per-hour with --placement-from-plan or --policy (the plan prices each attempt)")
    }
    if (fromPlan && cluster !== null) {
      return yield* flagError("--placement-from-plan", "--runner local (the cluster engines place attempts themselves)", engineName)
    }
    for (const [flag, id] of [["--job-id", input.jobId], ["--resume", input.resume]] as const) {
      if (Option.isSome(id) && !JOB_ID.test(id.value)) {
        return yield* flagError(flag, "a job id of letters, digits, '.', '_' and '-' (at most 128)", id.value)
      }
    }
    const supervisor = yield* Supervisor
    const ledger = yield* Ledger
    const options = (jobId: string, settings: PlanPolicy | null = null): SuperviseOptions =>
      withPolicy({ ...progress(), logDirectory: join(jobDirectory(process.env, jobId), "logs") }, settings)
    const finish = (outcome: JobOutcome) =>
      Effect.gen(function*() {
        yield* Console.log(summary(outcome).join("\n"))
        if (outcome.status === "failed") return yield* new JobFailed({ jobId: outcome.jobId, detail: outcome.detail ?? "failed" })
      })

    const resumeId = Option.isSome(input.resume) ? input.resume : input.jobId
    if (Option.isSome(resumeId) && (yield* ledger.job(resumeId.value)) !== undefined) {
      if (input.dryRun) return yield* Console.log(`would continue job ${resumeId.value} from the ledger ${ledger.path}`)
      yield* Console.log(`continuing job ${resumeId.value} from the ledger ${ledger.path}`)
      const saved = yield* loadPlanPolicy(jobDirectory(process.env, resumeId.value))
      if (saved !== null) yield* Console.log(`  policy ${saved.policy} places the relaunches (saved with the job)`)
      return yield* finish(yield* supervisor.resume(resumeId.value, options(resumeId.value, saved)))
    }
    if (Option.isSome(input.resume)) {
      return yield* flagError("--resume", `a job in the ledger ${ledger.path} (frugal status lists them)`, input.resume.value)
    }
    if (Option.isNone(input.file)) return yield* flagError("FILE", "a workload file to run, or --resume JOB")
    const file = input.file.value

    const workload = yield* readSingleWorkload(file)
    const jobId = Option.isSome(input.jobId) ? input.jobId.value : yield* newJobId(workload.name)
    const launch = yield* launchFor(file, workload, join(jobDirectory(process.env, jobId), "checkpoints"))
    const settings = fromPlan
      ? yield* planPolicy(
        workload,
        Option.getOrElse(policyName, () => "frugal" as const),
        cluster === null,
        (yield* loadCalibration(true)).estimator
      ).pipe(Effect.provide(catalogLayer(input.catalog ?? "embedded")))
      : null
    const spec: JobSpec = {
      name: workload.name,
      launch: cluster === null ? launch : cluster.launch(workload, launch),
      placement: settings !== null ? settings.first : cluster === null ? localPlacement(price) : cluster.placement(workload, price),
      retry: DEFAULT_RETRY_BUDGET,
      checkpointEverySeconds: null,
      precision: workload.kind === "batch" ? null : workload.model.precision
    }
    if (input.dryRun && cluster !== null) return yield* Console.log(cluster.dryRun(jobId, spec))
    if (input.dryRun) {
      return yield* Console.log(JSON.stringify({
        jobId,
        runner: input.runner,
        ledger: ledger.path,
        ...spec,
        ...(settings === null ? {} : { policy: settings })
      }, null, 2))
    }
    yield* Console.log(`job ${jobId}: ${spec.launch.argv.join(" ")}`)
    yield* Console.log(`  checkpoints: ${spec.launch.checkpointDir}   ledger: ${ledger.path}`)
    if (settings !== null) {
      yield* Console.log(describePlanPolicy(settings, input.runner).join("\n"))
      savePlanPolicy(jobDirectory(process.env, jobId), settings)
    }
    yield* Console.log(`  continue after a crash of this command with: frugal run --resume ${jobId}`)
    return yield* finish(yield* supervisor.run(jobId, spec, options(jobId, settings)))
  }).pipe(
    Effect.provide(
      Supervisor.layer.pipe(Layer.provideMerge(Layer.merge(runnerLayer(input.runner), Ledger.layer)))
    )
  )

const isClusterRunner = (runner: string): runner is ClusterRunnerName => runner === "slurm" || runner === "kubernetes" || runner === "ec2"

/** The engine for `--runner`; the cluster engines load only when asked for. */
const runnerLayer = (runner: string): Layer.Layer<Runner, InvalidInput> => {
  if (!isClusterRunner(runner)) return LocalRunner.layer
  return Layer.unwrap(Effect.map(
    Effect.promise(() => import("./ClusterEngine.ts")),
    (m) => m.clusterRunnerLayer(runner, process.env)
  ))
}
