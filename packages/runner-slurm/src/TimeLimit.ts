/**
 * `#SBATCH --time` from the plan's estimate: Slurm kills a job at its time limit, and schedulers backfill by it,
 * so a limit near what the job needs both protects the allocation and gets the job started sooner than the
 * partition's (usually days-long) default. Pure.
 *
 * limit = estimate × (1 + 25%) + 15 min, capped by `constraints.deadlineHours`, and never shorter than the
 * SIGUSR1 warning plus a minute (the warning must come after the job starts).
 *
 * - 25% covers what the estimate does not know: its MFU is a per-accelerator default until the ledger has
 *   measured one (docs/estimates.md), and checkpoint writes at the Young/Daly interval stall training.
 * - 15 minutes cover each run's fixed costs: start-up (interpreter, CUDA context, NCCL), loading the checkpoint
 *   after a requeue, and the final checkpoint. A requeued job's time limit starts again with each run, so the
 *   work redone after a pre-emption stays inside this margin too.
 * - Past the deadline the job has failed its constraint anyway; the cap stops it from holding the partition.
 */
import { acceleratorByName, estimatePlacement, type Workload } from "@frugal/core"

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
 * The time limit of a workload placed on `gpus` of `accelerator` (core's `estimatePlacement`), or null when there
 * is no estimate to derive it from: an inference service (it runs until stopped), no accelerator known (a CPU job,
 * or GPUs asked for without naming them in `resources.accelerators`), or an estimate that is not finite.
 */
export const workloadTimeLimitMinutes = (
  workload: Workload,
  accelerator: string | null,
  gpus: number,
  signalSeconds: number
): number | null => {
  if (workload.kind === "inference" || accelerator === null || gpus < 1) return null
  const spec = acceleratorByName(accelerator)
  if (spec === undefined) return null
  const hours = estimatePlacement(workload, spec, gpus).hours
  if (!Number.isFinite(hours) || hours <= 0) return null
  return timeLimitMinutes(hours, workload.constraints.deadlineHours ?? null, signalSeconds)
}

/**
 * Where a job's derived limit travels: its launch environment, which the ledger stores with the job (so
 * `frugal run --resume` keeps the limit) and which a workload's own `run.env` may set too.
 */
export const TIME_LIMIT_VARIABLE = "FRUGAL_SLURM_TIME_MINUTES"

/** The limit a launch environment carries; null when absent or not a whole number of minutes ≥ 1. */
export const launchTimeLimitMinutes = (env: Readonly<Record<string, string>>): number | null => {
  const raw = env[TIME_LIMIT_VARIABLE]?.trim()
  if (raw === undefined || !/^[0-9]+$/.test(raw)) return null
  const minutes = Number(raw)
  return minutes >= 1 ? minutes : null
}
