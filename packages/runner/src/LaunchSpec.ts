/**
 * What an attempt launches: an argv (never a shell string), its environment, working directory and
 * the checkpoint directory the command resumes from. Every engine (local, Slurm, Kubernetes, EC2)
 * receives the same spec; the engine decides how to carry it to the machine.
 */
import { Schema } from "effect"

export const LaunchSpec = Schema.Struct({
  /** argv[0] is the program, looked up on PATH; the rest are passed as-is, never through a shell. */
  argv: Schema.NonEmptyArray(Schema.String),
  /** Added to (and overriding) the runner's own environment. */
  env: Schema.Record(Schema.String, Schema.String),
  /** Absolute working directory. */
  workdir: Schema.String,
  /** Absolute checkpoint directory, exported to the command as FRUGAL_CHECKPOINT_DIR. */
  checkpointDir: Schema.String,
  /**
   * Processes per node under torchrun (`run.processesPerNode`); absent: one per GPU of the placement, one without
   * GPUs (see Torchrun.ts). Optional, so launches recorded before it existed still decode.
   */
  processesPerNode: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /**
   * What starts torchrun on this machine, for the local engine: `python -m frugal_trainer.torchrun` with the
   * Python that has torch (it also starts on torch 1.13 under Python 3.11, where `torchrun` itself fails).
   * Remote engines start `torchrun` from the node's PATH.
   */
  torchrunProgram: Schema.optionalKey(Schema.NonEmptyArray(Schema.String))
})
export type LaunchSpec = typeof LaunchSpec.Type

/**
 * The environment the protocol defines for a launch: the checkpoint directory and, when the supervisor
 * chose one, the checkpoint interval. User-supplied `env` wins, so a script can pin its own interval.
 */
export const protocolEnvironment = (
  spec: LaunchSpec,
  checkpointEverySeconds: number | null
): Record<string, string> => ({
  FRUGAL_CHECKPOINT_DIR: spec.checkpointDir,
  ...(checkpointEverySeconds === null ? {} : { FRUGAL_CHECKPOINT_EVERY_SECONDS: String(checkpointEverySeconds) }),
  ...spec.env
})
