/**
 * `#SBATCH --time` from the plan's estimate: Slurm kills a job at its time limit, and schedulers backfill by it,
 * so a limit near what the job needs both protects the allocation and gets the job started sooner than the
 * partition's (usually days-long) default. Pure.
 *
 * limit = estimate × (1 + 25%) + 15 min, capped by the hours left to `constraints.deadlineHours`, and never shorter
 * than the SIGUSR1 warning plus a minute (the warning must come after the job starts). The estimate is the work
 * left at the attempt's own placement, so every attempt (a failover, a resume) gets its own limit.
 *
 * - 25% covers what the estimate does not know: its MFU is a per-accelerator default until the ledger has
 *   measured one (docs/estimates.md), and checkpoint writes at the Young/Daly interval stall training.
 * - 15 minutes cover each run's fixed costs: start-up (interpreter, CUDA context, NCCL), loading the checkpoint
 *   after a requeue, and the final checkpoint. A requeued job's time limit starts again with each run, so the
 *   work redone after a pre-emption stays inside this margin too.
 * - Past the deadline the job has failed its constraint anyway; the cap stops it from holding the partition.
 */
import type { AttemptRequest } from "@frugal/runner"

/** Relative margin on the estimated hours (MFU uncertainty, checkpoint stalls). */
export const TIME_LIMIT_MARGIN = 0.25
/** Fixed minutes per run (start-up, checkpoint load after a requeue, final checkpoint). */
export const TIME_LIMIT_FIXED_MINUTES = 15

/** Whole minutes for `--time`: the estimate with its margin, capped by the deadline. */
export const timeLimitMinutes = (estimatedHours: number, deadlineHours: number | null, signalSeconds: number): number => {
  const withMargin = Math.ceil(estimatedHours * 60 * (1 + TIME_LIMIT_MARGIN) + TIME_LIMIT_FIXED_MINUTES)
  const capped = deadlineHours === null ? withMargin : Math.min(withMargin, Math.floor(deadlineHours * 60))
  return Math.max(capped, Math.ceil(signalSeconds / 60) + 1)
}

/**
 * The time limit of one attempt, from what the supervisor expects it to need at its placement (the plan's
 * uninterrupted hours there times the work the newest checkpoint leaves, and the hours left to the deadline:
 * `AttemptRequest.horizon`). Derived again for every attempt, so a failover to a slower partition asks for longer
 * and a resume late in the job for less. Null when there is nothing to derive it from: no horizon (a job without a
 * plan), a placement without GPUs (a CPU job), or hours that are negative or not finite.
 */
export const attemptTimeLimitMinutes = (request: AttemptRequest, signalSeconds: number): number | null => {
  const horizon = request.horizon
  if (horizon === undefined || request.placement.accelerator === null || request.placement.acceleratorsPerInstance < 1) return null
  // A plan rounds hours to 0.01: a few seconds of work reads as 0, and gets the fixed minutes alone.
  if (!Number.isFinite(horizon.workHours) || horizon.workHours < 0) return null
  return timeLimitMinutes(horizon.workHours, horizon.deadlineHours, signalSeconds)
}

/** The variable of a workload's `run.env` (or the engine's environment) that sets `--time` itself. */
export const TIME_LIMIT_VARIABLE = "FRUGAL_SLURM_TIME_MINUTES"

/** The limit a launch environment carries; null when absent or not a whole number of minutes ≥ 1. */
export const launchTimeLimitMinutes = (env: Readonly<Record<string, string>>): number | null => {
  const raw = env[TIME_LIMIT_VARIABLE]?.trim()
  if (raw === undefined || !/^[0-9]+$/.test(raw)) return null
  const minutes = Number(raw)
  return minutes >= 1 ? minutes : null
}
