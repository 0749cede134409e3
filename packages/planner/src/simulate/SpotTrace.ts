/**
 * A spot availability trace of one zone, and a set of zones replayed together.
 *
 * `available[i]` is 1 when spot could be had during tick i (the skypilot-org/spot-traces
 * convention for 1-node files), 0 when not. Run statistics that policies read as "history" are
 * precomputed once per trace as prefix arrays, so the simulator answers them in O(1) per tick.
 */

export interface SpotTrace {
  /** The zone (or file stem) the trace was recorded in, e.g. `us-west-2a_v100_1`. */
  readonly name: string
  readonly tickHours: number
  readonly available: Uint8Array
  /** Spot USD per hour per tick, when the trace has prices. */
  readonly spotPriceUsdPerHour: Float64Array | null
}

/** Prefix statistics of one trace, indexed by tick (everything observed up to and including it). */
export interface TraceIndex {
  /** First tick of the run (of 1s or of 0s) that contains tick i. */
  readonly runStart: Int32Array
  /** Availability runs that ended at or before tick i (the zone went 1 → 0). */
  readonly completedSpotRuns: Int32Array
  /** Their total length, in ticks. */
  readonly completedSpotRunTicks: Float64Array
  /** Ticks with spot available in [0, i]. */
  readonly availableTicks: Int32Array
  /** Completed availability runs in order: the tick after each ends, and its length in ticks. */
  readonly spotRunEnds: Int32Array
  readonly spotRunLengths: Int32Array
}

export const indexTrace = (trace: SpotTrace): TraceIndex => {
  const n = trace.available.length
  const runStart = new Int32Array(n)
  const completedSpotRuns = new Int32Array(n)
  const completedSpotRunTicks = new Float64Array(n)
  const availableTicks = new Int32Array(n)
  let start = 0
  let runs = 0
  let runTicks = 0
  let up = 0
  const ends: Array<number> = []
  const lengths: Array<number> = []
  for (let i = 0; i < n; i++) {
    const now = trace.available[i] ?? 0
    const before = i === 0 ? now : (trace.available[i - 1] ?? 0)
    if (i > 0 && now !== before) {
      if (before === 1) {
        runs++
        runTicks += i - start
        ends.push(i)
        lengths.push(i - start)
      }
      start = i
    }
    if (now === 1) up++
    runStart[i] = start
    completedSpotRuns[i] = runs
    completedSpotRunTicks[i] = runTicks
    availableTicks[i] = up
  }
  return {
    runStart,
    completedSpotRuns,
    completedSpotRunTicks,
    availableTicks,
    spotRunEnds: Int32Array.from(ends),
    spotRunLengths: Int32Array.from(lengths)
  }
}

/** Zones replayed together: the same tick length and number of ticks, tick i at the same time. */
export interface ZoneSet {
  readonly name: string
  readonly tickHours: number
  readonly ticks: number
  readonly zones: ReadonlyArray<SpotTrace>
  readonly indexes: ReadonlyArray<TraceIndex>
}

export const zoneSet = (name: string, zones: ReadonlyArray<SpotTrace>): ZoneSet => {
  const first = zones[0]
  if (first === undefined) throw new RangeError("a zone set needs at least one trace")
  let ticks = first.available.length
  for (const zone of zones) {
    if (Math.abs(zone.tickHours - first.tickHours) > 1e-12) {
      throw new RangeError(`${zone.name}: tick of ${zone.tickHours} h differs from ${first.name}'s ${first.tickHours} h`)
    }
    ticks = Math.min(ticks, zone.available.length)
  }
  return { name, tickHours: first.tickHours, ticks, zones, indexes: zones.map(indexTrace) }
}

/** The instance part of a trace name: `us-west-2a_v100_1` → `v100_1` (the whole name if none). */
export const instanceOfTrace = (name: string): string => {
  const at = name.indexOf("_")
  return at < 0 ? name : name.slice(at + 1)
}

/**
 * Zone sets to replay: one per trace (`single`), or one per instance type across zones (`multi`:
 * traces of the same instance, tick and length form one set a policy may move within).
 */
export const zoneSetsOf = (traces: ReadonlyArray<SpotTrace>, zones: "single" | "multi"): ReadonlyArray<ZoneSet> => {
  if (zones === "single") return traces.map((trace) => zoneSet(trace.name, [trace]))
  const groups = new Map<string, Array<SpotTrace>>()
  for (const trace of traces) {
    const key = `${instanceOfTrace(trace.name)}@${trace.tickHours.toFixed(9)}/${trace.available.length}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [trace])
    else group.push(trace)
  }
  return [...groups.values()].map((group) =>
    zoneSet(`${instanceOfTrace(group[0]?.name ?? "")} × ${group.length} zones`, group)
  )
}
