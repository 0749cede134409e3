/**
 * Throughput measured by completed runs, per accelerator and precision: what the planner should believe
 * instead of its default MFU once Frugal has seen real steps on that GPU. Pure: samples in, summary out.
 */

/** One completed run's steady-state throughput. */
export interface CalibrationSample {
  readonly jobId: string
  /** Canonical accelerator name, or `cpu`. */
  readonly accelerator: string
  readonly precision: string
  readonly tokensPerSecondPerGpu: number
  /** Model FLOP utilisation, when the run's model size and the accelerator's peak are known. */
  readonly mfu: number | null
  /** Steps the figure is the median of. */
  readonly steps: number
  readonly measuredAtMillis: number
}

/** What the planner consumes (`measuredThroughput`): one row per accelerator and precision. */
export interface MeasuredThroughput {
  readonly accelerator: string
  readonly precision: string
  /** Median over the most recent runs, so one odd run does not move the estimate. */
  readonly tokensPerSecondPerGpu: number
  readonly mfu: number | null
  readonly runs: number
  readonly lastMeasuredAtMillis: number
}

export const median = (values: ReadonlyArray<number>): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const upper = sorted[middle] ?? 0
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2
}

/**
 * Steady-state tokens/s of one attempt from its step events: the first steps include compilation,
 * allocator warm-up and data-loader start, so the first fifth (at least one step) is dropped.
 */
export const steadyStateTokensPerSecond = (tokensPerSecond: ReadonlyArray<number>): number | null => {
  if (tokensPerSecond.length === 0) return null
  const skip = tokensPerSecond.length > 1 ? Math.max(1, Math.floor(tokensPerSecond.length / 5)) : 0
  return median(tokensPerSecond.slice(skip))
}

/** Groups samples by accelerator and precision, keeping the newest `window` runs of each. */
export const summarizeCalibration = (
  samples: ReadonlyArray<CalibrationSample>,
  window = 20
): ReadonlyArray<MeasuredThroughput> => {
  const groups = new Map<string, Array<CalibrationSample>>()
  for (const sample of samples) {
    const key = `${sample.accelerator}\u0000${sample.precision}`
    const group = groups.get(key) ?? []
    group.push(sample)
    groups.set(key, group)
  }
  const summaries: Array<MeasuredThroughput> = []
  for (const group of groups.values()) {
    const recent = [...group].sort((a, b) => b.measuredAtMillis - a.measuredAtMillis).slice(0, window)
    const first = recent[0]
    if (first === undefined) continue
    const mfus = recent.flatMap((sample) => (sample.mfu === null ? [] : [sample.mfu]))
    summaries.push({
      accelerator: first.accelerator,
      precision: first.precision,
      tokensPerSecondPerGpu: median(recent.map((sample) => sample.tokensPerSecondPerGpu)) ?? 0,
      mfu: median(mfus),
      runs: recent.length,
      lastMeasuredAtMillis: first.measuredAtMillis
    })
  }
  return summaries.sort((a, b) => a.accelerator.localeCompare(b.accelerator) || a.precision.localeCompare(b.precision))
}
