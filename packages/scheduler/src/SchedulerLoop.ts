/**
 * The scheduler: while this process leads, one supervisor per running job (through the JobLauncher: the same launch
 * path as `frugal run`), and a pass over the queue whenever something changes — a submission, a cancel, a job that
 * ends and frees capacity (QueueSignal wakes it at once) — and every `passEveryMillis` for what time alone changes
 * (aging, deadlines, a new month). Every decision goes to the queue's decision log with its reason.
 *
 * On taking the lead (a first start, a restart after `kill -9`, a follower replacing a dead leader) it reconciles
 * the queue with the ledger before any pass: a job the queue says runs is resumed through the launcher, which adopts
 * the attempt a dead leader left running where the engine can follow it and otherwise stops it and relaunches from
 * the checkpoint, so nothing runs twice and nothing is lost; a job that ended while nobody watched is closed as the
 * ledger says; a job admitted but never started is started.
 *
 * Every job runs under its lease in the ledger (the runner's JobLease, labelled `frugal server`). A job whose lease
 * another process holds — a replica that led before and is still stopping its supervisors, or one that lost the lead
 * and still runs it — is neither failed nor started beside it: the supervision waits until that lease is released or
 * expires, then looks again (the job may have ended meanwhile).
 */
import type { LocalFailure } from "@frugal/core"
import { describeHolder, type JobLeased, type JobOutcome, Ledger, type LedgerError } from "@frugal/runner"
import { Cause, Clock, Duration, Effect, Exit, Fiber, type Scope } from "effect"
import { JobLauncher, LaunchFailure } from "./JobLauncher.ts"
import { Leadership } from "./Leadership.ts"
import { QueueSignal } from "./QueueSignal.ts"
import type { SchedulerPolicy } from "./SchedulerPolicy.ts"
import { type FittedLaunch, fitLaunch, planPass } from "./SchedulingPass.ts"
import type { QueueJob } from "./store/QueueRecords.ts"
import { QueueStore } from "./store/QueueStore.ts"
import type { QueueStoreError } from "./store/SchedulerSql.ts"
import { commitmentUse } from "./Commitments.ts"
import { snapshot, SpendCache } from "./Usage.ts"

export interface SchedulerOptions {
  readonly policy: SchedulerPolicy
  /** A pass at least this often, for time-driven changes (default 30 s). */
  readonly passEveryMillis?: number
  /** One line per decision, for the server's log. */
  readonly log?: (line: string) => Effect.Effect<void>
  /** Called once this process leads (for `/healthz`). */
  readonly onLead?: Effect.Effect<void>
  /** Called after each pass with how long it took (for `/metrics`). */
  readonly onPass?: (durationMillis: number) => Effect.Effect<void>
}

type Intent = "preempt" | "cancel"

/** How often a job waiting for another holder's lease looks again (at most). */
const LEASE_POLL_MILLIS = 1_000

type Services = QueueStore | Ledger | JobLauncher | QueueSignal | Leadership

/** Leads (once it can) and schedules until the scope closes; fails when leadership is lost. */
export const runScheduler = (options: SchedulerOptions): Effect.Effect<never, LocalFailure | QueueStoreError | LedgerError, Services | Scope.Scope> =>
  Effect.gen(function*() {
    const leadership = yield* Leadership
    const log = options.log ?? (() => Effect.void)
    const lost = yield* leadership.acquire
    if (options.onLead !== undefined) yield* options.onLead
    yield* log("scheduler: leading; reconciling the queue with the ledger")
    const loop = yield* makeLoop(options, log)
    yield* loop.reconcile
    const passes = Effect.forever(
      Effect.gen(function*() {
        const [took] = yield* Effect.timed(loop.pass)
        if (options.onPass !== undefined) yield* options.onPass(Duration.toMillis(took))
        yield* loop.signal.next(options.passEveryMillis ?? 30_000)
      })
    )
    return yield* Effect.raceFirst(passes, lost)
  })

const makeLoop = (options: SchedulerOptions, log: (line: string) => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const store = yield* QueueStore
    const ledger = yield* Ledger
    const launcher = yield* JobLauncher
    const signal = yield* QueueSignal
    const scope = yield* Effect.scope
    const fibers = new Map<string, Fiber.Fiber<unknown, unknown>>()
    const intents = new Map<string, Intent>()
    const cache = new SpendCache()
    const policy = options.policy

    /** Closes the queue row as the job's supervision ended; an interrupted one says why it was stopped. */
    const settle = (job: QueueJob, exit: Exit.Exit<JobOutcome, LaunchFailure>) =>
      Effect.gen(function*() {
        const intent = intents.get(job.id)
        intents.delete(job.id)
        fibers.delete(job.id)
        const attempts = yield* Effect.orElseSucceed(ledger.attempts(job.id), () => [])
        const costUsd = attempts.reduce((sum, attempt) => sum + attempt.costUsd, 0)
        if (Exit.isSuccess(exit)) {
          const outcome = exit.value
          const detail = outcome.status === "completed"
            ? `completed at step ${outcome.finalStep ?? "?"}${outcome.weightsSha256 === null ? "" : `, weights sha256 ${outcome.weightsSha256}`}, cost $${outcome.costUsd.toFixed(4)}`
            : outcome.detail ?? "failed"
          yield* store.finish(job.id, outcome.status, detail, costUsd)
          yield* log(`scheduler: ${job.id} ${outcome.status}: ${detail}`)
        } else if (Cause.hasInterruptsOnly(exit.cause)) {
          if (intent === "preempt") {
            yield* store.requeue(job.id, "preempted for urgent work: checkpointed and back in the queue", costUsd)
            yield* log(`scheduler: ${job.id} preempted and requeued`)
          } else if (intent === "cancel") {
            yield* store.finish(job.id, "cancelled", "cancelled while running (its checkpoint is kept)", costUsd)
            yield* log(`scheduler: ${job.id} cancelled`)
          }
          // Otherwise the server is stopping: the job stays `running` and the next leader resumes it.
        } else {
          const failure = Cause.findErrorOption(exit.cause)
          const detail = failure._tag === "Some" ? failure.value.message : Cause.pretty(exit.cause).split("\n")[0] ?? "failed"
          yield* store.finish(job.id, "failed", detail, costUsd)
          yield* log(`scheduler: ${job.id} failed: ${detail}`)
        }
      }).pipe(Effect.ignore, Effect.andThen(signal.notify))

    /** Until nobody holds the job's lease: released, or expired after its holder's last heartbeat. */
    const leaseFreed = (jobId: string): Effect.Effect<void, LedgerError> =>
      Effect.gen(function*() {
        while (true) {
          const lease = yield* ledger.lease(jobId)
          const now = yield* Clock.currentTimeMillis
          if (lease === undefined || lease.expiresAtMillis <= now) return
          yield* Effect.sleep(Math.min(LEASE_POLL_MILLIS, lease.expiresAtMillis - now))
        }
      })

    /**
     * `work`, or, while another process holds the job's lease, a wait for it (recorded once) and then `work` again.
     * A job that ended under the other holder is closed as the ledger says rather than started again.
     */
    const unlessHeld = (job: QueueJob, work: Effect.Effect<JobOutcome, LaunchFailure | JobLeased>): Effect.Effect<JobOutcome, LaunchFailure> => {
      let recorded = false
      const attempt: Effect.Effect<JobOutcome, LaunchFailure> = work.pipe(
        Effect.catchTag("JobLeased", (held) =>
          Effect.gen(function*() {
            if (!recorded) {
              recorded = true
              const holder = describeHolder({ pid: held.holderPid, host: held.holderHost, pidNamespace: null, label: held.holderLabel })
              const detail = `its lease is held by ${holder}; waiting until it is released or expires`
              yield* Effect.ignore(store.record(job.id, "lease-held", null, detail))
              yield* log(`scheduler: ${job.id}: ${detail}`)
            }
            yield* leaseFreed(job.id)
            const after = yield* ledger.job(job.id)
            if (after?.status === "failed") return yield* new LaunchFailure({ jobId: job.id, detail: after.detail ?? "failed under another supervisor" })
            return yield* attempt
          }).pipe(Effect.catchTag("LedgerError", (error) => Effect.fail(new LaunchFailure({ jobId: job.id, detail: error.message }))))
        )
      )
      return attempt
    }

    /** Starts supervising `job` in the background; the pass goes on at once. */
    const supervise = (job: QueueJob, work: Effect.Effect<JobOutcome, LaunchFailure | JobLeased>) =>
      Effect.gen(function*() {
        const fiber = yield* unlessHeld(job, work).pipe(
          Effect.onExit((exit) => settle(job, exit)),
          Effect.forkIn(scope)
        )
        fibers.set(job.id, fiber)
      })

    /** A job started fresh on its fitted placements, or, when the ledger already has it (preempted), resumed. */
    const start = (job: QueueJob, launch: FittedLaunch): Effect.Effect<JobOutcome, LaunchFailure | JobLeased> =>
      Effect.gen(function*() {
        const known = yield* Effect.mapError(ledger.job(job.id), (error) => new LaunchFailure({ jobId: job.id, detail: error.message }))
        if (known !== undefined) return yield* launcher.resume(job.id, job.workloadText)
        const prepared = yield* launcher.prepare(job.id, job.workloadText).pipe(
          Effect.mapError((error) => (error._tag === "LaunchFailure" ? error : new LaunchFailure({ jobId: job.id, detail: error.message })))
        )
        return yield* prepared.run(launch.placements, launch.deadlineHours)
      })

    /** Stops a running job's supervisor without waiting for it (its attempt gets its grace to checkpoint). */
    const stop = (jobId: string, intent: Intent) =>
      Effect.gen(function*() {
        const fiber = fibers.get(jobId)
        if (fiber === undefined || intents.has(jobId)) return
        intents.set(jobId, intent)
        yield* Effect.forkIn(Fiber.interrupt(fiber), scope)
      })

    const reconcile = Effect.gen(function*() {
      const view = yield* snapshot(cache)
      const use = commitmentUse([...view.openAttempts.values()].map((attempt) => attempt.placement))
      for (const job of view.running) {
        const runnerJob = yield* ledger.job(job.id)
        if (runnerJob === undefined) {
          // Admitted, but the leader died before the job's first write: start it now.
          const fitted = fitLaunch(job, policy, use, view.nowMillis)
          if ("refused" in fitted) {
            yield* store.finish(job.id, "failed", fitted.refused)
            continue
          }
          yield* store.record(job.id, "restarted", null, "admitted before the last leader stopped; started now")
          yield* supervise(job, start(job, fitted))
          continue
        }
        const costUsd = (yield* ledger.attempts(job.id)).reduce((sum, attempt) => sum + attempt.costUsd, 0)
        if (runnerJob.status === "completed" || runnerJob.status === "failed") {
          yield* store.finish(job.id, runnerJob.status, runnerJob.detail ?? `${runnerJob.status} while no scheduler was watching`, costUsd)
        } else if (runnerJob.status === "cancelled" && job.cancelRequested) {
          yield* store.finish(job.id, "cancelled", "cancelled while running (its checkpoint is kept)", costUsd)
        } else if (runnerJob.status === "cancelled" && job.preemptRequested) {
          yield* store.requeue(job.id, "preempted for urgent work: checkpointed and back in the queue", costUsd)
        } else {
          yield* store.record(job.id, "resumed", null, "taken over by a new leader: its attempt is adopted or relaunched from its checkpoint")
          yield* log(`scheduler: resuming ${job.id}`)
          yield* supervise(job, launcher.resume(job.id, job.workloadText))
        }
      }
    })

    const pass = Effect.gen(function*() {
      const view = yield* snapshot(cache)
      for (const job of view.running) {
        if (job.cancelRequested) yield* stop(job.id, "cancel")
      }
      const quotas = yield* launcher.quotas
      const plan = planPass(policy, view, quotas)
      for (const refused of plan.refused) {
        yield* store.finish(refused.jobId, "failed", `refused: ${refused.detail}`)
        yield* log(`scheduler: ${refused.jobId} refused: ${refused.detail}`)
      }
      for (const preempt of plan.preempt) {
        yield* store.requestPreempt(preempt.jobId, preempt.detail)
        yield* log(`scheduler: preempting ${preempt.jobId}: ${preempt.detail}`)
        yield* stop(preempt.jobId, "preempt")
      }
      yield* store.waitingMany(plan.wait)
      const byId = new Map(view.queued.map((job) => [job.id, job]))
      for (const id of plan.admit) {
        const job = byId.get(id)
        const launch = plan.launches.get(id)
        if (job === undefined || launch === undefined) continue
        const detail = `admitted on ${launch.placements[0].placement.purchaseOption}` +
          (launch.onDemandOnly ? " (only on-demand still meets constraints.deadlineHours)" : "") +
          `, reserving $${launch.expectedCostUsd.toFixed(4)} and ${launch.gpus} GPUs`
        if (!(yield* store.admit(id, detail, { expectedCostUsd: launch.expectedCostUsd, gpus: launch.gpus }))) continue
        yield* log(`scheduler: ${id} ${detail}`)
        yield* supervise(job, start(job, launch))
      }
    })

    return { reconcile, pass, signal }
  })
