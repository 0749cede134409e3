/**
 * The engine interface every runner implements (local child process here; Slurm, Kubernetes and EC2 in
 * their own packages). An attempt is one launch of a command at one placement: the engine starts it,
 * streams the trainer protocol events it prints, reports how it ended, stops it on request, and serves
 * its logs. Everything above the engine (the Supervisor, the drill, the ledger) is engine-agnostic.
 */
import { type Cause, Context, Deferred, type Effect, type Queue, Schema, type Scope, Stream } from "effect"
import type { TrainerEvent } from "@frugal/trainer"
import type { AttemptExit } from "./AttemptExit.ts"
import type { LaunchSpec } from "./LaunchSpec.ts"
import type { Placement } from "./Placement.ts"

export class RunnerError extends Schema.TaggedError<RunnerError>()("RunnerError", {
  runner: Schema.String,
  operation: Schema.String,
  /** The attempt concerned, when there is one. */
  attemptId: Schema.optionalKey(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.runner} runner: ${this.operation}${this.attemptId === undefined ? "" : ` (${this.attemptId})`}: ${this.detail}`
  }
}

/**
 * The engine could not start the attempt for want of capacity or quota: EC2's `InsufficientInstanceCapacity`,
 * `VcpuLimitExceeded` …, a Slurm partition that is down, Kubernetes pods unschedulable past their timeout. The
 * supervisor records it as a `provision-failed` attempt (cost 0), sets the capacity aside for a cool-down and tries
 * the next placement. `scope` says what to set aside: this pool only (type, zone, market), or every pool of the
 * market in the region (a regional quota).
 */
export class ProvisioningFailed extends Schema.TaggedError<ProvisioningFailed>()("ProvisioningFailed", {
  runner: Schema.String,
  /** The engine's own error code, kept as the attempt's `reason`. */
  code: Schema.String,
  scope: Schema.Literals(["pool", "region"]),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.runner}: ${this.code}: ${this.detail}`
  }
}

/** What the engine is asked to start. */
export interface AttemptRequest {
  readonly jobId: string
  /** Unique across the ledger; the engine exports it to the command as `FRUGAL_ATTEMPT_ID`. */
  readonly attemptId: string
  readonly placement: Placement
  readonly launch: LaunchSpec
  /** Checkpoint interval chosen by the supervisor (Young/Daly); null leaves the command's own default. */
  readonly checkpointEverySeconds: number | null
  /** Where the engine keeps this attempt's log (a file for local; engines with their own log store may ignore it). */
  readonly logPath: string
  /**
   * What this attempt is expected to need at its placement (LaunchPolicy's `attemptHorizon`), for engines that
   * take a time limit (Slurm's `--time`); absent when the job has no plan to estimate from.
   */
  readonly horizon?: AttemptHorizon | undefined
}

/** Hours one attempt is expected to need: the work left at its placement, and the hours left to the deadline. */
export interface AttemptHorizon {
  /** Uninterrupted hours of the work left, at this placement. */
  readonly workHours: number
  /** Hours from now to `constraints.deadlineHours`; null without a deadline. */
  readonly deadlineHours: number | null
}

export interface CancelOptions {
  /**
   * Seconds between the polite stop (SIGTERM to the process group; the engine's equivalent elsewhere) and
   * the forced one (SIGKILL). 0 kills at once: what a hard pre-emption looks like. Default: the engine's.
   */
  readonly graceSeconds?: number
}

/** A started attempt. */
export interface AttemptHandle {
  readonly attemptId: string
  /** The engine's own name for the attempt: a pid, a Slurm job id, a pod name, an instance id. */
  readonly externalId: string
  /** Local process id, when there is one on this machine. */
  readonly pid: number | null
  readonly logPath: string | null
  /**
   * The protocol events the command printed, in order, ending when its stdout closes. Lines that are not
   * protocol go to the log. Buffered from launch, so a late subscriber misses nothing; consume it once.
   */
  readonly events: Stream.Stream<TrainerEvent>
  /** Completes when the command has ended. */
  readonly exit: Effect.Effect<AttemptExit>
  /** Stops the command (see {@link CancelOptions}) and waits until it has ended. */
  readonly cancel: (options?: CancelOptions) => Effect.Effect<void, RunnerError>
}

/**
 * The handle every engine returns: its events read from the queue the engine fills (ended when the command's
 * output ends), its exit from the deferred the engine completes, its log where the request put it.
 */
export const attemptHandle = (
  request: Pick<AttemptRequest, "attemptId" | "logPath">,
  started: {
    readonly externalId: string
    readonly pid: number | null
    readonly events: Queue.Dequeue<TrainerEvent, Cause.Done>
    readonly exited: Deferred.Deferred<AttemptExit>
    readonly cancel: AttemptHandle["cancel"]
  }
): AttemptHandle => ({
  attemptId: request.attemptId,
  externalId: started.externalId,
  pid: started.pid,
  logPath: request.logPath,
  events: Stream.fromQueue(started.events),
  exit: Deferred.await(started.exited),
  cancel: started.cancel
})

/** An attempt the ledger says was running when its supervisor vanished. */
export interface OrphanAttempt {
  readonly attemptId: string
  readonly externalId: string | null
  readonly pid: number | null
  /** Where it ran (which region, cluster or pool to look in), when the ledger knows. */
  readonly placement?: Placement
}

export class Runner extends Context.Service<Runner, {
  /** Short engine name recorded in the ledger: `local`, `slurm`, `kubernetes`, `ec2`. */
  readonly name: string
  /**
   * Starts an attempt. Closing the scope stops it (polite stop with the engine's grace) if it still runs,
   * so an interrupted supervisor never leaves a command behind — except when the supervisor process is
   * killed outright, which {@link stopOrphan} handles on restart.
   */
  readonly submit: (request: AttemptRequest) => Effect.Effect<AttemptHandle, RunnerError | ProvisioningFailed, Scope.Scope>
  /**
   * Takes over an attempt left running by a supervisor that died (`frugal run --resume`), so that nothing is
   * launched twice: a handle that follows it to its end, or null when it is no longer running. Engines whose
   * attempts cannot outlive their supervisor (a local child process) have none; the supervisor stops those.
   */
  readonly adopt?: (orphan: OrphanAttempt, request: AttemptRequest) => Effect.Effect<AttemptHandle | null, RunnerError, Scope.Scope>
  /**
   * Makes sure an attempt left running by a supervisor that died is no longer running (politely first, so it
   * can write a final checkpoint). Returns whether it was still running.
   */
  readonly stopOrphan: (orphan: OrphanAttempt, options?: CancelOptions) => Effect.Effect<boolean, RunnerError>
  /** The attempt's log lines (stderr and non-protocol stdout), oldest first. */
  readonly logs: (attempt: { readonly attemptId: string; readonly logPath: string | null }) => Stream.Stream<string, RunnerError>
}>()("@frugal/runner/Runner") {}
