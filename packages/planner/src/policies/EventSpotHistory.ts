/**
 * A `SpotHistory` built from events, for the runner's Supervisor: record each change of a zone's
 * spot capacity as it is observed (a pre-emption, a spot request that succeeds or fails, AWS spot
 * placement scores), move the clock with `advanceTo`, and pass the object to `Policy.decide`.
 */
import { RECENT_SPOT_PERIODS, type SpotHistory } from "./Policy.ts"

interface ZoneRecord {
  available: boolean
  since: number
  firstSeen: number
  availableHours: number
  periods: Array<number>
}

export class EventSpotHistory implements SpotHistory {
  private readonly zones: Array<ZoneRecord | undefined> = []
  private nowHours = 0

  /** Zone `zone` was seen with (or without) spot capacity at `atHours` (any monotonic clock, hours). */
  observe(zone: number, available: boolean, atHours: number): void {
    this.advanceTo(atHours)
    const record = this.zones[zone]
    if (record === undefined) {
      this.zones[zone] = { available, since: atHours, firstSeen: atHours, availableHours: 0, periods: [] }
      return
    }
    if (record.available === available) return
    if (record.available) {
      record.availableHours += atHours - record.since
      record.periods.push(atHours - record.since)
    }
    record.available = available
    record.since = atHours
  }

  advanceTo(nowHours: number): void {
    this.nowHours = Math.max(this.nowHours, nowHours)
  }

  currentStateHours(zone: number): number {
    const record = this.zones[zone]
    return record === undefined ? 0 : this.nowHours - record.since
  }
  completedSpotPeriods(zone: number): number {
    return this.zones[zone]?.periods.length ?? 0
  }
  completedSpotPeriodHours(zone: number): number {
    return this.zones[zone]?.periods.reduce((sum, hours) => sum + hours, 0) ?? 0
  }
  meanResidualSpotHours(zone: number, ageHours: number): number {
    const longer = (this.zones[zone]?.periods ?? []).slice(-RECENT_SPOT_PERIODS).filter((hours) => hours > ageHours + 1e-9)
    return longer.length === 0 ? Number.NaN : longer.reduce((sum, hours) => sum + hours - ageHours, 0) / longer.length
  }
  observedHours(zone: number): number {
    const record = this.zones[zone]
    return record === undefined ? 0 : this.nowHours - record.firstSeen
  }
  availableHours(zone: number): number {
    const record = this.zones[zone]
    if (record === undefined) return 0
    return record.availableHours + (record.available ? this.nowHours - record.since : 0)
  }
}
