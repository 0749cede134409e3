/**
 * When to checkpoint and what interruptions cost: pure functions over hours. Sources in docs/estimates.md.
 */

/**
 * Young's optimal checkpoint interval (J. W. Young, "A first order approximation to the optimum checkpoint interval",
 * CACM 17(9), 1974): τ = √(2·δ·M) for checkpoint write time δ and mean time between interruptions M.
 */
export const youngDalyIntervalHours = (checkpointWriteHours: number, mtbfHours: number): number => {
  if (!(checkpointWriteHours > 0) || !(mtbfHours > 0)) return Number.POSITIVE_INFINITY
  if (!Number.isFinite(mtbfHours)) return Number.POSITIVE_INFINITY
  return Math.sqrt(2 * checkpointWriteHours * mtbfHours)
}

/**
 * Daly's higher-order refinement (J. T. Daly, "A higher order estimate of the optimum checkpoint interval for
 * restart dumps", FGCS 22(3), 2006, eq. 37): for δ < 2M, τ = √(2δM)·[1 + ⅓·√(δ/2M) + δ/(18M)] − δ; otherwise τ = M.
 */
export const dalyIntervalHours = (checkpointWriteHours: number, mtbfHours: number): number => {
  const d = checkpointWriteHours
  const m = mtbfHours
  if (!(d > 0) || !(m > 0) || !Number.isFinite(m)) return Number.POSITIVE_INFINITY
  if (d >= 2 * m) return m
  return Math.sqrt(2 * d * m) * (1 + Math.sqrt(d / (2 * m)) / 3 + d / (18 * m)) - d
}

/**
 * Expected fraction of wall-clock time lost to checkpointing and interruptions, to first order (Young 1974):
 * δ/τ for the writes, plus (τ/2 + R)/M for the work redone and the restart after each interruption.
 * At τ = √(2δM) and R = 0 this is √(2δ/M).
 */
export const expectedOverheadFraction = (options: {
  readonly intervalHours: number
  readonly checkpointWriteHours: number
  readonly mtbfHours: number
  readonly restartHours: number
}): number => {
  const { intervalHours: tau, checkpointWriteHours: d, mtbfHours: m, restartHours: r } = options
  const writes = Number.isFinite(tau) && tau > 0 ? d / tau : 0
  const failures = Number.isFinite(m) && m > 0 ? (Number.isFinite(tau) ? tau / 2 + r : 0) / m : 0
  return writes + failures
}

/** Work lost by one interruption: on average half an interval since the last checkpoint, plus the restart. */
export const expectedLostHoursPerInterruption = (intervalHours: number, restartHours: number): number =>
  intervalHours / 2 + restartHours

/**
 * Wall-clock hours for `computeHours` of work with checkpoints every τ and interruptions every M on average:
 * compute × (1 + overhead). First-order; fine while τ and δ are small against M.
 */
export const expectedWallClockHours = (options: {
  readonly computeHours: number
  readonly intervalHours: number
  readonly checkpointWriteHours: number
  readonly mtbfHours: number
  readonly restartHours: number
}): number => options.computeHours * (1 + expectedOverheadFraction(options))

/**
 * Throughput of a synchronous `torch.save` of the full training state to local disk, per writer: the reference
 * bench wrote 2.63 GB in 3.93 s on an H100 host (0.67 GB/s).
 */
export const DEFAULT_CHECKPOINT_WRITE_GBPS = 2.63 / 3.93

/**
 * Bytes of a resumable training checkpoint: fp32 weights plus optimizer states (gradients are not saved).
 * AdamW: 12 bytes per parameter (the bench's 219.3M-parameter GPT: 2.63 GB).
 */
export const checkpointBytes = (parameters: number, optimizer: "adamw" | "sgd" | "adafactor"): number =>
  parameters * (4 + (optimizer === "adamw" ? 8 : optimizer === "sgd" ? 4 : 0.05))

/** Hours to write `bytes` with `writers` ranks writing their shards in parallel (1 unless the state is sharded). */
export const checkpointWriteHours = (
  bytes: number,
  writers = 1,
  gbpsPerWriter: number = DEFAULT_CHECKPOINT_WRITE_GBPS
): number => bytes / (gbpsPerWriter * 1e9 * Math.max(1, writers)) / 3600
