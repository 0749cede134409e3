/**
 * `frugal run` behind its flags: read the file, ask the SDK to prepare the job (plan, placements, engines) or to
 * continue one from the ledger, and print its progress. The engines, the plan-to-placement mapping and the policy
 * live in the packages (`@frugal/sdk` jobs, `@frugal/runner`, `runner-*`); this module only parses and prints.
 * Loaded lazily: it pulls in SQLite and child processes, which `frugal plan` never needs.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { InvalidInput } from "@frugal/core"
import type { OnlinePolicyName } from "@frugal/planner"
import { CatalogCache, QuotaSource } from "@frugal/pricing"
import {
  type AttemptRecord,
  describeHolder,
  describePlacement,
  type EngineName,
  type JobOutcome,
  Ledger,
  type LaunchChoice,
  type SuperviseOptions
} from "@frugal/runner"
import {
  dryRunReport,
  dryRunText,
  jobLogDirectory,
  type PreparedJob,
  prepareJob,
  resumeJob,
  type RunHooks,
  runPrepared
} from "@frugal/sdk/jobs"
import type { TrainerEvent } from "@frugal/trainer"
import { catalogLayer } from "../../Catalogs.ts"
import { readWorkloadText } from "../../WorkloadInput.ts"
import { duration, usd } from "./Format.ts"

export interface RunInput {
  readonly file: Option.Option<string>
  readonly runner: Option.Option<EngineName>
  readonly infra: Option.Option<string>
  readonly dryRun: boolean
  readonly json: boolean
  readonly jobId: Option.Option<string>
  readonly resume: Option.Option<string>
  readonly pricePerHour: Option.Option<number>
  readonly policy: Option.Option<OnlinePolicyName>
  readonly placementFromPlan: boolean
  readonly catalog: string
  readonly fromScratch: boolean
}

/** The job ended without completing (retry budget spent, or no placement can meet the deadline); exit code 1. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId} failed: ${this.detail}`
  }
}

const progress = (): RunHooks => {
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
        return `${tag} checkpoint at step ${event.step} (${(event.bytes / 1e6).toFixed(1)} MB, loop blocked ${event.blockingSeconds.toFixed(3)} s)`
      case "interrupted":
        return `${tag} interrupted by ${event.reason} at step ${event.step}, final checkpoint ${event.checkpointStep ?? "none"}`
      case "completed":
        return `${tag} completed at step ${event.step}, weights sha256 ${event.weightsSha256}`
      case "checkpoints-invalid":
        return `${tag} no valid checkpoint in ${event.checkpointDir}: ${event.rejected.length} failed verification`
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
        } on ${describePlacement(attempt.placement)}, cost ${usd(attempt.costUsd)}`
      ),
    onDecision: (choice: LaunchChoice) =>
      Console.log(
        choice._tag === "Launch"
          ? `[next] ${describePlacement(choice.placement)} at ${usd(choice.placement.hourlyPriceUsd)}/h: ${choice.why}`
          : choice._tag === "Wait"
          ? `[next] wait ${Math.ceil(choice.hours * 60)} min: ${choice.why}`
          : `[next] stop: ${choice.reason}`
      ),
    onAdopt: (attempt) => Console.log(`[attempt ${attempt.sequence}] still running on ${describePlacement(attempt.placement)}: following it again`),
    onLease: ({ lease, replaced }) =>
      replaced === null
        ? Effect.void
        : Console.log(
          `[lease] took job ${lease.jobId} over from ${describeHolder(replaced.holder)}: ${
            replaced.expiresAtMillis <= lease.acquiredAtMillis ? "its lease had expired" : "that process is gone"
          }`
        )
  }
}

const placementText = (attempt: AttemptRecord): string => {
  const p = attempt.placement
  return p.purchaseOption === "local" ? p.instanceType : `${describePlacement(p)} at ${usd(p.hourlyPriceUsd)}/h`
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

const finish = (outcome: JobOutcome) =>
  Effect.gen(function*() {
    yield* Console.log(summary(outcome).join("\n"))
    if (outcome.status === "failed") return yield* new JobFailed({ jobId: outcome.jobId, detail: outcome.detail ?? "failed" })
  })

/** What `frugal run` prints before the first attempt: where it will run and what may follow. */
const preamble = (prepared: PreparedJob, ledgerPath: string): ReadonlyArray<string> => {
  const first = prepared.placements[0]
  const others = prepared.placements.length - 1
  return [
    `job ${prepared.jobId}: ${prepared.spec.launch.argv.join(" ")}`,
    `  checkpoints: ${prepared.spec.launch.checkpointDir}   ledger: ${ledgerPath}`,
    ...(prepared.policy === null
      ? []
      : [
        `  first: ${first === undefined ? "?" : `${describePlacement(first.placement)} at ${usd(first.placement.hourlyPriceUsd)}/h`} ` +
        `(${prepared.policy.catalog} prices)`,
        `  then ${others} more placement(s) in failover order; policy ${prepared.policy.policy} picks each relaunch` +
        (prepared.policy.deadlineHours === null ? "" : ` to meet the ${prepared.policy.deadlineHours} h deadline`)
      ]),
    ...prepared.notes.map((note) => `  note: ${note}`),
    `  continue after a crash of this command with: frugal run --resume ${prepared.jobId}`
  ]
}

const options = <A>(option: Option.Option<A>): A | undefined => Option.getOrUndefined(option)

/** Ctrl-C or SIGTERM: the supervisor has stopped the attempt and marked the job cancelled; say how to go on. */
const saysWhenCancelled = (jobId: string) =>
  Effect.onInterrupt(() => Console.error(`job ${jobId}: cancelled; its checkpoints are kept: continue with frugal run --resume ${jobId}`))

/**
 * The account's EC2 quotas, from Service Quotas: asked for only when a job may launch on EC2 (prepareJob decides),
 * and the AWS SDK is loaded only then.
 */
const lazyServiceQuotas = QuotaSource.of({
  ec2VcpuQuotas: (regions) =>
    Effect.flatMap(Effect.promise(() => import("@frugal/pricing/aws")), (aws) =>
      Effect.flatMap(QuotaSource, (quotas) => quotas.ec2VcpuQuotas(regions)).pipe(
        Effect.provide(aws.serviceQuotasLayer.pipe(Layer.provide(CatalogCache.layer)))
      ))
})

export const run = (input: RunInput) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const env = process.env
    const resumeId = Option.isSome(input.resume) ? input.resume : input.jobId
    if (Option.isSome(resumeId) && (yield* ledger.job(resumeId.value)) !== undefined) {
      if (input.dryRun) return yield* Console.log(`would continue job ${resumeId.value} from the ledger ${ledger.path}`)
      // With a FILE, the job continues only if it was made from that workload (resumeJob checks).
      const workload = Option.isSome(input.file)
        ? { input: yield* readWorkloadText(input.file.value), source: input.file.value === "-" ? "stdin" : input.file.value }
        : undefined
      const request = {
        jobId: resumeId.value,
        infra: options(input.infra),
        pricePerHourUsd: options(input.pricePerHour),
        workload,
        fromScratch: input.fromScratch
      }
      // Said once the job's lease is held: a refused request (another holder, another workload) continues nothing.
      const hooks = progress()
      const continuing = `continuing job ${resumeId.value} from the ledger ${ledger.path}`
      const onLease: NonNullable<RunHooks["onLease"]> = (held) => Effect.andThen(Console.log(continuing), hooks.onLease?.(held) ?? Effect.void)
      return yield* finish(yield* resumeJob(request, env, { ...hooks, onLease }).pipe(saysWhenCancelled(resumeId.value)))
    }
    if (Option.isSome(input.resume)) {
      return yield* new InvalidInput({
        source: "--resume",
        issues: [{ path: "--resume", expected: `a job in the ledger ${ledger.path} (frugal status lists them)`, actual: input.resume.value }]
      })
    }
    if (Option.isNone(input.file)) {
      return yield* new InvalidInput({
        source: "FILE",
        issues: [{ path: "FILE", expected: "a workload file to run, or --resume JOB" }]
      })
    }
    const file = input.file.value
    const text = yield* readWorkloadText(file)
    const prepared = yield* prepareJob({
      workload: text,
      source: file === "-" ? "stdin" : file,
      jobId: options(input.jobId),
      runner: options(input.runner),
      policy: options(input.policy),
      placementFromPlan: input.placementFromPlan,
      pricePerHourUsd: options(input.pricePerHour),
      infra: options(input.infra)
    }, env).pipe(
      Effect.provide(catalogLayer(input.catalog)),
      Effect.provideService(QuotaSource, lazyServiceQuotas)
    )
    const logDirectory = jobLogDirectory(env, prepared.jobId)
    if (input.dryRun) {
      return yield* Console.log(input.json ? JSON.stringify(dryRunReport(prepared, ledger.path, logDirectory), null, 2) : dryRunText(prepared, logDirectory))
    }
    yield* Console.log(preamble(prepared, ledger.path).join("\n"))
    return yield* finish(
      yield* runPrepared(prepared, env, progress() satisfies Pick<SuperviseOptions, "onEvent">, { fromScratch: input.fromScratch }).pipe(
        saysWhenCancelled(prepared.jobId)
      )
    )
  }).pipe(Effect.provide(Ledger.layer))
