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

/** The smallest positive spacing between samples, in hours; 1 when there is only one sample. */
export const sampleHoursOf = (samples: ReadonlyArray<GpuSample>): number => {
  let smallest = Number.POSITIVE_INFINITY
  for (let i = 1; i < samples.length; i++) {
    const gap = Date.parse(samples[i]?.time ?? "") - Date.parse(samples[i - 1]?.time ?? "")
    if (gap > 0 && gap < smallest) smallest = gap
  }
  return Number.isFinite(smallest) ? smallest / HOUR_MS : 1
}

/**
 * Idle: consecutive samples below `thresholdPct` (a missing sample or a gap in time ends a stretch),
 * kept when the stretch lasts at least `minHours`.
 */
export const gpuUsage = (series: GpuSeries, thresholdPct: number, minHours: number): GpuUsage => {
  const sampleHours = sampleHoursOf(series.samples)
  const idle: Array<IdleStretch> = []
  const idleTimes = new Set<string>()
  let run: Array<GpuSample> = []
  const close = () => {
    const first = run[0]
    const last = run[run.length - 1]
    if (first !== undefined && last !== undefined && run.length * sampleHours >= minHours - 1e-9) {
      idle.push({ from: first.time, to: last.time, hours: run.length * sampleHours })
      for (const sample of run) idleTimes.add(sample.time)
    }
    run = []
  }
  for (const sample of series.samples) {
    const previous = run[run.length - 1]
    const contiguous = previous === undefined ||
      Date.parse(sample.time) - Date.parse(previous.time) <= sampleHours * HOUR_MS + 1
    if (!contiguous) close()
    if (sample.utilizationPct !== null && sample.utilizationPct < thresholdPct) run.push(sample)
    else close()
  }
  close()
  return { series, sampleHours, idle, busy: series.samples.filter((sample) => !idleTimes.has(sample.time)) }
}
