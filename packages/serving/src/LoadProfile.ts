/**
 * A longer load from a short request trace: the recorded span is repeated minute by minute and scaled by a daily
 * profile and a rate scale. Pure.
 *
 * The daily profile is an assumption, stated wherever a result uses it: one smooth peak a day (a raised cosine),
 * the quietest hour at `troughShare` of the peak, the peak at `peakHourUtc`. The default puts the peak at 18:45
 * UTC, the middle of the hour the Azure traces were recorded in (2023-11-16 18:15–19:14), so the recorded hour is
 * the busiest of the day and is not scaled up, and the night at 30% of it: the day/night swing of an interactive
 * service used from one continent. The Azure 2023 traces are one hour long and cannot show the cycle themselves.
 */
import type { RequestTrace } from "./RequestTrace.ts"

export interface DailyProfile {
  /** Hour of the day (UTC, fractional) with the most load. */
  readonly peakHourUtc: number
  /** Load of the quietest hour as a share of the peak, 0..1. */
  readonly troughShare: number
}

export const DEFAULT_DAILY_PROFILE: DailyProfile = { peakHourUtc: 18.75, troughShare: 0.3 }

export const MINUTES_PER_DAY = 1440

/** The profile's factor at a minute of the day: 1 at the peak, `troughShare` twelve hours away. */
export const dailyFactor = (profile: DailyProfile, minuteOfDay: number): number => {
  const hours = minuteOfDay / 60 - profile.peakHourUtc
  return profile.troughShare + (1 - profile.troughShare) * (1 + Math.cos((2 * Math.PI * hours) / 24)) / 2
}

export interface TilingOptions {
  readonly minutes: number
  readonly rateScale: number
  readonly profile: DailyProfile
}

/**
 * Requests in each of `minutes` minutes starting at 00:00 UTC: the trace's minute (m mod its length) × the
 * profile's factor at the minute's time of day (taken at the middle of the minute) × the rate scale.
 */
export const tileArrivals = (trace: RequestTrace, options: TilingOptions): Float64Array => {
  const base = trace.requestsPerMinute
  const out = new Float64Array(Math.max(0, Math.floor(options.minutes)))
  const factors = Float64Array.from({ length: MINUTES_PER_DAY }, (_, m) => dailyFactor(options.profile, m + 0.5))
  for (let m = 0; m < out.length; m++) {
    out[m] = (base[m % base.length] ?? 0) * (factors[m % MINUTES_PER_DAY] ?? 1) * options.rateScale
  }
  return out
}
