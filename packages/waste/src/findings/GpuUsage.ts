/** Splits each GPU's hourly samples into idle stretches and busy hours. */
import type { GpuSample, GpuSeries } from "../CostData.ts"

const HOUR_MS = 3_600_000

export interface IdleStretch {
  readonly from: string
  /** Start of the last idle sample. */
  readonly to: string
  readonly hours: number
}

export interface GpuUsage {
  readonly series: GpuSeries
  /** Hours one sample stands for (the spacing of the samples; 1 for hourly data). */
  readonly sampleHours: number
  readonly idle: ReadonlyArray<IdleStretch>
  /** Samples outside idle stretches. */
  readonly busy: ReadonlyArray<GpuSample>
}

/** The smallest positive spacing between sample times (ms, sorted), in hours; 1 when there is only one sample. */
export const sampleHoursOf = (times: ReadonlyArray<number>): number => {
  let smallest = Number.POSITIVE_INFINITY
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] ?? 0) - (times[i - 1] ?? 0)
    if (gap > 0 && gap < smallest) smallest = gap
  }
  return Number.isFinite(smallest) ? smallest / HOUR_MS : 1
}

/**
 * Idle: consecutive samples below `thresholdPct` (a missing sample or a gap in time ends a stretch),
 * kept when the stretch lasts at least `minHours`.
 */
export const gpuUsage = (series: GpuSeries, thresholdPct: number, minHours: number): GpuUsage => {
  const times = series.samples.map((sample) => Date.parse(sample.time))
  const sampleHours = sampleHoursOf(times)
  const idle: Array<IdleStretch> = []
  const idleTimes = new Set<string>()
  let run: Array<GpuSample> = []
  let previousTime = Number.NaN
  const close = () => {
    const first = run[0]
    const last = run[run.length - 1]
    if (first !== undefined && last !== undefined && run.length * sampleHours >= minHours - 1e-9) {
      idle.push({ from: first.time, to: last.time, hours: run.length * sampleHours })
      for (const sample of run) idleTimes.add(sample.time)
    }
    run = []
  }
  for (const [index, sample] of series.samples.entries()) {
    const time = times[index] ?? Number.NaN
    const contiguous = run.length === 0 || time - previousTime <= sampleHours * HOUR_MS + 1
    previousTime = time
    if (!contiguous) close()
    if (sample.utilizationPct !== null && sample.utilizationPct < thresholdPct) run.push(sample)
    else close()
  }
  close()
  return { series, sampleHours, idle, busy: series.samples.filter((sample) => !idleTimes.has(sample.time)) }
}
