/**
 * How often the supervisor asks a command to checkpoint at a placement: Young/Daly from the measured
 * checkpoint write time and the placement's interruption rate. Pure.
 */
import { youngDalyIntervalHours } from "@frugal/core"
import type { Placement } from "./Placement.ts"

/** Write time assumed before the job has written a checkpoint (seconds); replaced by the measured one. */
export const DEFAULT_CHECKPOINT_WRITE_SECONDS = 10

/**
 * Seconds between checkpoints, or null where interruptions are not expected (the command keeps its own
 * default). Never below 10× the write time, so checkpointing costs at most about a tenth of the run
 * even on a placement that is interrupted every few minutes.
 */
export const checkpointIntervalSeconds = (placement: Placement, checkpointWriteSeconds: number): number | null => {
  if (!(placement.interruptionsPerHour > 0)) return null
  const writeSeconds = Math.max(checkpointWriteSeconds, 1e-3)
  // Young (1974): τ = √(2·δ·M), δ the checkpoint write time, M the mean time between interruptions.
  const hours = youngDalyIntervalHours(writeSeconds / 3600, 1 / placement.interruptionsPerHour)
  if (!Number.isFinite(hours)) return null
  return Math.max(Math.round(hours * 3600), Math.ceil(10 * writeSeconds), 1)
}
