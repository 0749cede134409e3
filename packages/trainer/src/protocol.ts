/**
 * The trainer protocol: one JSON object per stdout line, written by the reference trainer
 * (`python3 -m frugal_trainer`) or by any user script through `frugal_trainer.Progress`.
 * Every other stdout line is not protocol and is ignored by the runner.
 *
 * Baseline fields are fixed by the cross-package contract; the fields marked "optional" were added by
 * the trainer and may be absent (a user's own training loop need not emit them). Unknown fields are
 * ignored on decode so that a newer trainer can add fields without breaking an older runner.
 *
 * Exit codes of a trainer process: {@link EXIT_COMPLETED} when it finished, {@link EXIT_INTERRUPTED}
 * when it stopped on a signal after writing a final checkpoint (resumable), {@link EXIT_CHECKPOINTS_INVALID} when
 * every checkpoint it found failed verification (after a `checkpoints-invalid` event); anything else is a crash.
 */
import { Cause, Option, Schema } from "effect"

/** Finished: the `completed` event was written. */
export const EXIT_COMPLETED = 0
/** Interrupted and resumable: the final checkpoint was written (BSD `EX_TEMPFAIL`). */
export const EXIT_INTERRUPTED = 75
/**
 * Every checkpoint in the checkpoint directory failed verification and the trainer did not start over (BSD
 * `EX_DATAERR`): the `checkpoints-invalid` event before it names each file and the check it failed.
 */
export const EXIT_CHECKPOINTS_INVALID = 65

// ISO-8601 UTC timestamp as written by Python's `datetime.isoformat()` or JS `toISOString()`.
const IsoTime = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, {
    expected: "an ISO-8601 timestamp such as 2026-11-23T07:00:00.000Z"
  })
)
const Sha256Hex = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{64}$/, { expected: "64 lowercase hex digits (sha256)" })
)
const Count = Schema.Natural
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/** The process started (fresh, or resumed from a checkpoint). */
export const StartedEvent = Schema.Struct({
  event: Schema.Literal("started"),
  time: IsoTime,
  /** The step training starts from: 0 when fresh, the checkpoint's step when resumed. */
  step: Count,
  resumedFromStep: Schema.NullOr(Count),
  tokensSeen: Count,
  /** `cpu` or `cuda:N`. */
  device: Schema.String,
  /** `fp32`, `tf32`, `bf16` or `fp16`; a user script may name its own. */
  precision: Schema.String,
  pid: Count,
  /** Optional: the step at which the run completes. */
  maxSteps: Schema.optionalKey(Count),
  /** Optional: trainable parameters of the model. */
  parameters: Schema.optionalKey(Count),
  /** Optional: model FLOPs per trained token (6·N plus attention), for MFU. */
  flopsPerToken: Schema.optionalKey(NonNegative),
  /** Optional: processes training together (torchrun's world size); 1 for a single process. */
  worldSize: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Optional: how the model is spread over them: `single`, `ddp`, `ddp+zero1`, `fsdp:FULL_SHARD`, ... */
  parallelism: Schema.optionalKey(Schema.String),
  /** Optional: what the installed torch could not do as asked, and what ran instead (never silent). */
  fallbacks: Schema.optionalKey(Schema.Array(Schema.String))
})
export type StartedEvent = typeof StartedEvent.Type

/** One optimizer step finished (the trainer may report every k-th step only). */
export const StepEvent = Schema.Struct({
  event: Schema.Literal("step"),
  time: IsoTime,
  step: Count,
  /** Training loss of this step; null when it was not finite (an fp16 overflow or a divergence). */
  loss: Schema.NullOr(Schema.Finite),
  /** Tokens per second of the whole job (every process) since the previous step event. */
  tokensPerSecond: NonNegative,
  tokensSeen: Count,
  /** Percent (0–100) of time the GPU was busy, as nvidia-smi reports it; null without a GPU. */
  gpuUtilization: Schema.NullOr(NonNegative),
  /** Peak memory allocated on the GPU so far, GiB; null without a GPU. */
  gpuMemoryGiB: Schema.NullOr(NonNegative),
  /** Optional: learning rate used for this step. */
  learningRate: Schema.optionalKey(NonNegative),
  /** Optional: model FLOPs utilisation per GPU (job FLOP/s over the dense peak of every GPU); null when unknown. */
  mfu: Schema.optionalKey(Schema.NullOr(NonNegative))
})
export type StepEvent = typeof StepEvent.Type

/** A checkpoint is durable on disk (written, fsynced, renamed into place). */
export const CheckpointEvent = Schema.Struct({
  event: Schema.Literal("checkpoint"),
  time: IsoTime,
  step: Count,
  path: Schema.String,
  bytes: Count,
  /** Seconds the training loop was stopped for (the copy to host memory when asynchronous). */
  blockingSeconds: NonNegative,
  /** Seconds from the start of the save until the file was durable. */
  totalSeconds: NonNegative,
  /** Optional: sha256 of the checkpoint file, as in its sidecar. */
  sha256: Schema.optionalKey(Sha256Hex)
})
export type CheckpointEvent = typeof CheckpointEvent.Type

/** The trainer stopped on a signal; the process exits with {@link EXIT_INTERRUPTED} next. */
export const InterruptedEvent = Schema.Struct({
  event: Schema.Literal("interrupted"),
  time: IsoTime,
  step: Count,
  reason: Schema.Literals(["SIGTERM", "SIGUSR1", "spot-notice"]),
  /** The step of the final checkpoint written before exiting; null when none could be written. */
  checkpointStep: Schema.NullOr(Count)
})
export type InterruptedEvent = typeof InterruptedEvent.Type

/** Training reached its last step; the process exits with {@link EXIT_COMPLETED} next. */
export const CompletedEvent = Schema.Struct({
  event: Schema.Literal("completed"),
  time: IsoTime,
  step: Count,
  tokensSeen: Count,
  /** sha256 of the final weights (bitwise), to prove a resumed run equals an uninterrupted one. */
  weightsSha256: Sha256Hex,
  /** Optional: mean training throughput of the whole job, every process (steps after warm-up). */
  tokensPerSecond: Schema.optionalKey(NonNegative),
  /** Optional: mean model FLOPs utilisation per GPU; null when unknown (CPU). */
  mfu: Schema.optionalKey(Schema.NullOr(NonNegative)),
  /** Optional: precision and device, repeated here so one line is enough to calibrate estimates. */
  precision: Schema.optionalKey(Schema.String),
  device: Schema.optionalKey(Schema.String)
})
export type CompletedEvent = typeof CompletedEvent.Type

/**
 * Checkpoints were written and every one fails verification (torn, truncated, altered: its checksum, size or
 * manifest does not match). The trainer trains nothing and exits {@link EXIT_CHECKPOINTS_INVALID} next, unless told
 * to start over (`FRUGAL_FROM_SCRATCH=1`). A checkpoint cut short before it was complete (no checksum sidecar or
 * manifest yet) was never reported durable and is not listed.
 */
export const CheckpointsInvalidEvent = Schema.Struct({
  event: Schema.Literal("checkpoints-invalid"),
  time: IsoTime,
  /** The directory searched. */
  checkpointDir: Schema.String,
  /** Every complete checkpoint found, newest first, with the check it failed. */
  rejected: Schema.NonEmptyArray(Schema.Struct({ path: Schema.String, step: Count, reason: Schema.String }))
})
export type CheckpointsInvalidEvent = typeof CheckpointsInvalidEvent.Type

export const TrainerEvent = Schema.Union([
  StartedEvent,
  StepEvent,
  CheckpointEvent,
  InterruptedEvent,
  CompletedEvent,
  CheckpointsInvalidEvent
])
export type TrainerEvent = typeof TrainerEvent.Type
export type TrainerEventKind = TrainerEvent["event"]

export const TRAINER_EVENT_KINDS: ReadonlyArray<TrainerEventKind> = [
  "started",
  "step",
  "checkpoint",
  "interrupted",
  "completed",
  "checkpoints-invalid"
]

const decodeEventJson = Schema.decodeUnknownOption(Schema.fromJsonString(TrainerEvent))
const decodeEventJsonExit = Schema.decodeUnknownExit(Schema.fromJsonString(TrainerEvent))

/** A stdout line, sorted: a protocol event, a line that is not protocol, or a protocol line that is broken. */
export type EventLine =
  | { readonly _tag: "Event"; readonly event: TrainerEvent }
  | { readonly _tag: "NotProtocol" }
  | { readonly _tag: "Malformed"; readonly message: string }

// A line is meant as protocol when it is a JSON object naming one of our event kinds; anything else
// (a library's log line, a progress bar, a JSON object of the user's own) is just output.
const eventKindPattern = /^\s*\{.*"event"\s*:\s*"(started|step|checkpoint|interrupted|completed|checkpoints-invalid)"/

/** Sorts one stdout line; the runner logs `Malformed` lines and otherwise ignores them. */
export const classifyEventLine = (line: string): EventLine => {
  const decoded = decodeEventJsonExit(line.trim())
  if (decoded._tag === "Success") return { _tag: "Event", event: decoded.value }
  if (!eventKindPattern.test(line)) return { _tag: "NotProtocol" }
  const error = Cause.findErrorOption(decoded.cause)
  return { _tag: "Malformed", message: Option.isSome(error) ? error.value.message : Cause.pretty(decoded.cause) }
}

/** The training step an event reports, or null for an event about no step (`checkpoints-invalid`). */
export const eventStep = (event: TrainerEvent): number | null => ("step" in event ? event.step : null)

/** The event a stdout line holds, or null when the line is not a (valid) protocol event. */
export const decodeEventLine = (line: string): TrainerEvent | null =>
  Option.getOrNull(decodeEventJson(line.trim()))
