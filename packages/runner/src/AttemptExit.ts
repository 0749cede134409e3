/**
 * How an attempt ended, as every engine reports it. The trainer protocol fixes the exit codes:
 * 0 completed, 75 interrupted with a final checkpoint (resumable), anything else a crash.
 * `lost` is an attempt whose end nobody saw (the node vanished, or the supervisor itself was killed).
 */
import { Schema } from "effect"

/** Exit code of a command that stopped on request after writing a resumable checkpoint (BSD EX_TEMPFAIL). */
export const INTERRUPTED_EXIT_CODE = 75

export const AttemptExit = Schema.Union([
  Schema.TaggedStruct("Completed", {}),
  Schema.TaggedStruct("Interrupted", { resumable: Schema.Boolean }),
  Schema.TaggedStruct("Crashed", { code: Schema.NullOr(Schema.Number), signal: Schema.NullOr(Schema.String) }),
  Schema.TaggedStruct("Lost", { detail: Schema.String })
])
export type AttemptExit = typeof AttemptExit.Type

/** Maps an exit status to the protocol's meaning. A signal death is a crash unless the runner sent it. */
export const exitFromStatus = (code: number | null, signal: string | null): AttemptExit =>
  code === 0
    ? { _tag: "Completed" }
    : code === INTERRUPTED_EXIT_CODE
    ? { _tag: "Interrupted", resumable: true }
    : { _tag: "Crashed", code, signal }

/** The ledger's one-word reason. */
export const exitReason = (exit: AttemptExit): "completed" | "interrupted" | "crashed" | "lost" =>
  exit._tag === "Completed"
    ? "completed"
    : exit._tag === "Interrupted"
    ? "interrupted"
    : exit._tag === "Crashed"
    ? "crashed"
    : "lost"

export const describeExit = (exit: AttemptExit): string => {
  switch (exit._tag) {
    case "Completed":
      return "completed"
    case "Interrupted":
      return exit.resumable ? "interrupted (resumable)" : "interrupted (not resumable)"
    case "Crashed":
      return exit.signal === null ? `crashed (exit ${String(exit.code)})` : `crashed (${exit.signal})`
    case "Lost":
      return `lost (${exit.detail})`
  }
}
