/**
 * `frugal run` behind its flags: read the file, ask the SDK to start the job (continue one the ledger has, or prepare
 * a new one: plan, placements, engines) and print its progress. The engines, the plan-to-placement mapping and the
 * policy live in the packages (`@frugal/sdk` jobs, `@frugal/runner`, `runner-*`); this module only parses and prints.
 * Loaded lazily: it pulls in SQLite and child processes, which `frugal plan` never needs.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { OnlinePolicyName } from "@frugal/planner"
import { type AttemptRecord, describeHolder, describePlacement, type EngineName, type JobOutcome, type LaunchChoice } from "@frugal/runner"
import {
  dryRunReport,
  dryRunText,
  JobFailed,
  jobLogDirectory,
  lazyServiceQuotas,
  Ledger,
  ledgerLayer,
  type PreparedJob,
  resumeJob,
  type RunHooks,
  runPrepared,
  startJob,
  trainerEventText
} from "@frugal/sdk/jobs"
import type { TrainerEvent } from "@frugal/trainer"
import { catalogLayer } from "../../Catalogs.ts"
import { environment } from "../../Environment.ts"
import { withFlagNames } from "../../FieldFlags.ts"
import { readWorkloadText } from "../../WorkloadInput.ts"
import { duration } from "./Format.ts"

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

const progress = (): RunHooks => {
  let lastStepLine = 0
  let maxSteps: number | null = null
  const line = (attempt: AttemptRecord, event: TrainerEvent): string | null => {
    if (event.event === "started") maxSteps = event.maxSteps ?? maxSteps
    if (event.event === "step") {
      const now = Date.now()
      if (now - lastStepLine < 2000 && event.step !== maxSteps) return null
      lastStepLine = now
    }
    const where = event.event === "started" ? placementText(attempt) : undefined
    return `[attempt ${attempt.sequence}] ${trainerEventText(event, { maxSteps, where })}`
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
        } on ${describePlacement(attempt.placement)}, cost ${formatUsd(attempt.costUsd, "glance")}`
      ),
    onDecision: (choice: LaunchChoice) =>
      Console.log(
        choice._tag === "Launch"
          ? `[next] ${describePlacement(choice.placement)} at ${formatUsdPerHour(choice.placement.hourlyPriceUsd)}: ${choice.why}`
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
  return p.purchaseOption === "local" ? p.instanceType : `${describePlacement(p)} at ${formatUsdPerHour(p.hourlyPriceUsd)}`
}

const summary = (outcome: JobOutcome): ReadonlyArray<string> => [
  "",
  `job ${outcome.jobId}: ${outcome.status}${outcome.detail === null ? "" : ` (${outcome.detail})`}`,
  `  attempts: ${outcome.attempts.length} (${outcome.attempts.map((a) => a.exitReason ?? "open").join(", ")})`,
  `  final step: ${outcome.finalStep ?? "n/a"}`,
  ...(outcome.weightsSha256 === null ? [] : [`  weights sha256: ${outcome.weightsSha256}`]),
  `  cost: ${formatUsd(outcome.costUsd, "glance")}`,
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
        `  first: ${first === undefined ? "?" : `${describePlacement(first.placement)} at ${formatUsdPerHour(first.placement.hourlyPriceUsd)}`} ` +
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

export const run = (input: RunInput) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const env = environment
    const file = options(input.file)
    const start = yield* startJob({
      workload: file === undefined ? undefined : yield* readWorkloadText(file),
      resume: options(input.resume),
      source: file === undefined ? undefined : file === "-" ? "stdin" : file,
      jobId: options(input.jobId),
      runner: options(input.runner),
      policy: options(input.policy),
      placementFromPlan: input.placementFromPlan,
      pricePerHourUsd: options(input.pricePerHour),
      infra: options(input.infra),
      fromScratch: input.fromScratch
    }, env).pipe(
      withFlagNames(["workload"], { workload: "FILE" }),
      Effect.provide(catalogLayer(input.catalog)),
      Effect.provide(lazyServiceQuotas)
    )
    if (start._tag === "Continue") {
      if (input.dryRun) return yield* Console.log(`would continue job ${start.jobId} from the ledger ${ledger.path}`)
      const request = {
        jobId: start.jobId,
        infra: options(input.infra),
        pricePerHourUsd: options(input.pricePerHour),
        workload: start.workload,
        fromScratch: input.fromScratch
      }
      // Said once the job's lease is held: a refused request (another holder, another workload) continues nothing.
      const hooks = progress()
      const continuing = `continuing job ${start.jobId} from the ledger ${ledger.path}`
      const onLease: NonNullable<RunHooks["onLease"]> = (held) => Effect.andThen(Console.log(continuing), hooks.onLease?.(held) ?? Effect.void)
      return yield* finish(yield* resumeJob(request, env, { ...hooks, onLease }).pipe(saysWhenCancelled(start.jobId)))
    }
    const prepared = start.prepared
    const logDirectory = jobLogDirectory(env, prepared.jobId)
    if (input.dryRun) {
      return yield* Console.log(input.json ? JSON.stringify(dryRunReport(prepared, ledger.path, logDirectory), null, 2) : dryRunText(prepared, logDirectory))
    }
    yield* Console.log(preamble(prepared, ledger.path).join("\n"))
    return yield* finish(
      yield* runPrepared(prepared, env, progress(), { fromScratch: input.fromScratch }).pipe(saysWhenCancelled(prepared.jobId))
    )
  }).pipe(Effect.provide(ledgerLayer(environment)))
