/**
 * How an attempt ended, as every engine reports it. The trainer protocol fixes the exit codes:
 * 0 completed, 75 interrupted with a final checkpoint (resumable), anything else a crash.
 * `lost` is an attempt whose end nobody saw (the node vanished, or the supervisor itself was killed);
 * `provision-failed` one the engine could not start (no capacity, a quota, an unschedulable pod), at no cost;
 * `cancelled` one the user stopped (Ctrl-C, `frugal cancel`).
 */
import { Schema } from "effect"

/** Exit code of a command that stopped on request after writing a resumable checkpoint (BSD EX_TEMPFAIL). */
export const INTERRUPTED_EXIT_CODE = 75

export const AttemptExit = Schema.Union([
  Schema.TaggedStruct("Completed", {}),
  Schema.TaggedStruct("Interrupted", {
    resumable: Schema.Boolean,
    /** What interrupted it, in the engine's words: `Server.SpotInstanceTermination`, `DisruptionTarget`, `PREEMPTED`. */
    reason: Schema.optionalKey(Schema.String)
  }),
  Schema.TaggedStruct("Crashed", { code: Schema.NullOr(Schema.Number), signal: Schema.NullOr(Schema.String) }),
  Schema.TaggedStruct("Lost", { detail: Schema.String }),
  /**
   * The engine could not start the attempt: `code` is its error (`InsufficientInstanceCapacity`, a quota code);
   * `scope` what it rules out for a while: this pool, or the market in the whole region (a regional quota).
   */
  Schema.TaggedStruct("ProvisionFailed", {
    code: Schema.String,
    detail: Schema.String,
    scope: Schema.Literals(["pool", "region"])
  }),
  Schema.TaggedStruct("Cancelled", {})
])
export type AttemptExit = typeof AttemptExit.Type

/** Maps an exit status to the protocol's meaning. A signal death is a crash unless the runner sent it. */
export const exitFromStatus = (code: number | null, signal: string | null): AttemptExit =>
  code === 0
    ? { _tag: "Completed" }
    : code === INTERRUPTED_EXIT_CODE
    ? { _tag: "Interrupted", resumable: true }
    : { _tag: "Crashed", code, signal }

export const EXIT_REASONS = ["completed", "interrupted", "crashed", "lost", "provision-failed", "cancelled"] as const
export type ExitReason = (typeof EXIT_REASONS)[number]

/** The ledger's one-word reason. */
export const exitReason = (exit: AttemptExit): ExitReason => {
  switch (exit._tag) {
    case "Completed":
      return "completed"
    case "Interrupted":
      return "interrupted"
    case "Crashed":
      return "crashed"
    case "Lost":
      return "lost"
    case "ProvisionFailed":
      return "provision-failed"
    case "Cancelled":
      return "cancelled"
  }
}

/**
 * An attempt's outcome as `frugal status --json` reports it (ARCHITECTURE.md): a crash is `failed`; an attempt
 * whose end nobody saw is `interrupted` (its `reason` says it was lost); an open one is `running`.
 */
export type AttemptOutcome = "completed" | "interrupted" | "failed" | "provision-failed" | "cancelled" | "running"

export const attemptOutcome = (reason: ExitReason | null): AttemptOutcome =>
  reason === null ? "running" : reason === "crashed" ? "failed" : reason === "lost" ? "interrupted" : reason

/** The short machine-readable reason kept with the attempt: the engine's error or reclaim code, an exit code. */
export const exitReasonCode = (exit: AttemptExit): string | null => {
  switch (exit._tag) {
    case "Completed":
    case "Cancelled":
      return null
    case "Interrupted":
      return exit.reason ?? (exit.resumable ? "checkpointed (exit 75)" : null)
    case "Crashed":
      return exit.signal ?? (exit.code === null ? null : `exit ${exit.code}`)
    case "Lost":
      return "lost"
    case "ProvisionFailed":
      return exit.code
  }
}

/** Whether the attempt ran (and is charged): an attempt the engine never started costs nothing. */
export const exitRan = (exit: AttemptExit): boolean => exit._tag !== "ProvisionFailed"

export const describeExit = (exit: AttemptExit): string => {
  switch (exit._tag) {
    case "Completed":
      return "completed"
    case "Interrupted":
      return `${exit.resumable ? "interrupted (resumable)" : "interrupted (not resumable)"}${exit.reason === undefined ? "" : `: ${exit.reason}`}`
    case "Crashed":
      return exit.signal === null ? `crashed (exit ${String(exit.code)})` : `crashed (${exit.signal})`
    case "Lost":
      return `lost (${exit.detail})`
    case "ProvisionFailed":
      return `provision failed (${exit.code}: ${exit.detail})`
    case "Cancelled":
      return "cancelled"
  }
}
