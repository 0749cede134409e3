/**
 * Spot availability traces (the planner's `SpotTrace`, skypilot-org/spot-traces format) as the simulator's zones:
 * resampled to one value per minute from `startHours` into the trace, named after the zone the file is named after
 * (`us-east-1a_v100_1.json` → zone `us-east-1a` in `us-east-1`), priced from the catalog for the replica's
 * instance type in that zone's region.
 *
 * The traces record AWS zone NAMES, which map to zone IDs differently in every account, while the catalog prices
 * spot per zone ID; so each trace zone gets its region's median spot price, not a guess at which ID it was.
 * The traces measured one instance type (p3.2xlarge for the 2023 set); replaying them for another type assumes
 * its spot comes and goes the same way, as SpotHedge's evaluation does.
 */
import { type InputIssue, InvalidInput } from "@frugal/core"
import type { SpotTrace } from "@frugal/planner"
import { Effect } from "effect"
import type { RegionOffers } from "./ReplicaOffers.ts"
import type { SimulatedZone } from "./simulate/ServiceSimulator.ts"

const ZONE_NAME = /^([a-z]{2}(?:-gov)?-[a-z]+-\d{1,2})([a-z])(?:[_.-]|$)/

/** `us-east-1a_v100_1` → `{ zone: "us-east-1a", region: "us-east-1" }`; null when the name is not a zone's. */
export const zoneOfTraceName = (name: string): { readonly zone: string; readonly region: string } | null => {
  const match = ZONE_NAME.exec(name)
  return match === null || match[1] === undefined || match[2] === undefined ? null : { zone: `${match[1]}${match[2]}`, region: match[1] }
}

/** Availability per minute: the trace's tick covering each minute's start. */
export const availabilityPerMinute = (trace: SpotTrace, startHours: number, minutes: number): Uint8Array => {
  const out = new Uint8Array(minutes)
  const tickMinutes = trace.tickHours * 60
  for (let m = 0; m < minutes; m++) out[m] = trace.available[Math.floor((startHours * 60 + m) / tickMinutes)] ?? 0
  return out
}

export interface ZoneTraceOptions {
  readonly startHours: number
  readonly minutes: number
  /** Where the traces came from, for messages (`--spot-traces DIR`). */
  readonly source: string
}

/** The regions a set of traces covers, in order. */
export const traceRegions = (traces: ReadonlyArray<SpotTrace>): ReadonlyArray<string> =>
  [...new Set(traces.flatMap((trace) => zoneOfTraceName(trace.name)?.region ?? []))].sort()

/** Checks names and lengths: every trace is named after a zone and covers the replay. */
export const checkZoneTraces = (traces: ReadonlyArray<SpotTrace>, options: ZoneTraceOptions): Effect.Effect<void, InvalidInput> => {
  const issues: Array<InputIssue> = []
  const zones = new Set<string>()
  for (const trace of traces) {
    const parsed = zoneOfTraceName(trace.name)
    if (parsed === null) {
      issues.push({ path: trace.name, expected: "a trace file named after its zone, like us-east-1a_v100_1.json", actual: trace.name })
      continue
    }
    if (zones.has(parsed.zone)) issues.push({ path: trace.name, expected: "one trace per zone", actual: `${parsed.zone} again` })
    zones.add(parsed.zone)
    const hours = trace.available.length * trace.tickHours
    const needed = options.startHours + options.minutes / 60
    if (hours + 1e-9 < needed) {
      issues.push({ path: trace.name, expected: `a trace of at least ${needed.toFixed(1)} h (start + replay)`, actual: `${hours.toFixed(1)} h` })
    }
  }
  if (traces.length === 0) issues.push({ path: "", expected: "at least one availability trace" })
  return issues.length === 0 ? Effect.void : Effect.fail(new InvalidInput({ source: options.source, issues: issues.slice(0, 10) }))
}

/** The simulator's zones: one per trace whose region `offers` prices; traces elsewhere are left out. */
export const simulatedZones = (
  traces: ReadonlyArray<SpotTrace>,
  offers: ReadonlyMap<string, RegionOffers>,
  options: ZoneTraceOptions
): ReadonlyArray<SimulatedZone> =>
  traces.flatMap((trace): Array<SimulatedZone> => {
    const parsed = zoneOfTraceName(trace.name)
    const region = parsed === null ? undefined : offers.get(parsed.region)
    if (parsed === null || region === undefined || region.onDemandPriceUsdPerHour === null) return []
    const rates = region.spotZones.map((z) => z.interruptionsPerHour)
    return [{
      name: parsed.zone,
      region: parsed.region,
      spotAvailable: availabilityPerMinute(trace, options.startHours, options.minutes),
      spotPriceUsdPerHour: region.medianSpotPriceUsdPerHour ?? region.onDemandPriceUsdPerHour,
      onDemandPriceUsdPerHour: region.onDemandPriceUsdPerHour,
      priorInterruptionsPerHour: rates.length === 0 ? 0 : Math.max(...rates)
    }]
  })
