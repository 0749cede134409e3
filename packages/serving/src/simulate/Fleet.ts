/**
 * The replicas a simulated service holds, per zone and market: ready ones, and launching ones that become ready
 * one cold start after their launch. Terminating removes launching replicas first (the newest first: they are
 * furthest from serving), then ready ones; a reclaim takes every spot replica of its zone. Counts only, no objects
 * per replica: a month at one-minute resolution over nine zones stays in typed arrays.
 */

export const SPOT = 0
export const ON_DEMAND = 1
export type Market = typeof SPOT | typeof ON_DEMAND

/** What a policy may read of the fleet. */
export interface FleetView {
  readonly zones: number
  readonly coldStartMinutes: number
  ready(zone: number, market: Market): number
  launching(zone: number, market: Market): number
  held(zone: number, market: Market): number
  totalReady(market?: Market): number
  totalHeld(market?: Market): number
}

export class Fleet implements FleetView {
  readonly zones: number
  readonly coldStartMinutes: number
  private readonly readyCounts: Int32Array
  private readonly launchingCounts: Int32Array
  /** Per (zone, market): launches by the minute they become ready, in a ring of coldStartMinutes + 1 slots. */
  private readonly pipeline: Int32Array
  private readonly slots: number

  constructor(zones: number, coldStartMinutes: number) {
    this.zones = zones
    this.coldStartMinutes = Math.max(0, Math.floor(coldStartMinutes))
    this.slots = this.coldStartMinutes + 1
    this.readyCounts = new Int32Array(zones * 2)
    this.launchingCounts = new Int32Array(zones * 2)
    this.pipeline = new Int32Array(zones * 2 * this.slots)
  }

  private index(zone: number, market: Market): number {
    return zone * 2 + market
  }
  ready(zone: number, market: Market): number {
    return this.readyCounts[this.index(zone, market)] ?? 0
  }
  launching(zone: number, market: Market): number {
    return this.launchingCounts[this.index(zone, market)] ?? 0
  }
  held(zone: number, market: Market): number {
    return this.ready(zone, market) + this.launching(zone, market)
  }
  totalReady(market?: Market): number {
    let sum = 0
    for (let z = 0; z < this.zones; z++) sum += market === undefined ? this.ready(z, SPOT) + this.ready(z, ON_DEMAND) : this.ready(z, market)
    return sum
  }
  totalHeld(market?: Market): number {
    let sum = 0
    for (let z = 0; z < this.zones; z++) sum += market === undefined ? this.held(z, SPOT) + this.held(z, ON_DEMAND) : this.held(z, market)
    return sum
  }

  /** Replicas that start ready (the service was already running when the simulation starts). */
  seed(zone: number, market: Market, count: number): void {
    const i = this.index(zone, market)
    this.readyCounts[i] = (this.readyCounts[i] ?? 0) + count
  }

  launch(zone: number, market: Market, count: number, minute: number): void {
    if (count <= 0) return
    const i = this.index(zone, market)
    if (this.coldStartMinutes === 0) {
      this.readyCounts[i] = (this.readyCounts[i] ?? 0) + count
      return
    }
    const slot = i * this.slots + ((minute + this.coldStartMinutes) % this.slots)
    this.pipeline[slot] = (this.pipeline[slot] ?? 0) + count
    this.launchingCounts[i] = (this.launchingCounts[i] ?? 0) + count
  }

  /** Removes `count` replicas (launching newest first, then ready); returns how many were removed. */
  terminate(zone: number, market: Market, count: number, minute: number): number {
    const i = this.index(zone, market)
    let left = count
    for (let ahead = this.coldStartMinutes; ahead >= 1 && left > 0 && (this.launchingCounts[i] ?? 0) > 0; ahead--) {
      const slot = i * this.slots + ((minute + ahead) % this.slots)
      const take = Math.min(left, this.pipeline[slot] ?? 0)
      this.pipeline[slot] = (this.pipeline[slot] ?? 0) - take
      this.launchingCounts[i] = (this.launchingCounts[i] ?? 0) - take
      left -= take
    }
    const fromReady = Math.min(left, this.readyCounts[i] ?? 0)
    this.readyCounts[i] = (this.readyCounts[i] ?? 0) - fromReady
    left -= fromReady
    return count - left
  }

  /** Every spot replica of the zone is reclaimed; returns how many (ready and launching). */
  reclaim(zone: number): number {
    const i = this.index(zone, SPOT)
    const lost = (this.readyCounts[i] ?? 0) + (this.launchingCounts[i] ?? 0)
    this.readyCounts[i] = 0
    this.launchingCounts[i] = 0
    this.pipeline.fill(0, i * this.slots, (i + 1) * this.slots)
    return lost
  }

  /** Launches due at `minute` become ready. */
  promote(minute: number): void {
    if (this.coldStartMinutes === 0) return
    const at = minute % this.slots
    for (let i = 0; i < this.zones * 2; i++) {
      const slot = i * this.slots + at
      const due = this.pipeline[slot] ?? 0
      if (due === 0) continue
      this.pipeline[slot] = 0
      this.launchingCounts[i] = (this.launchingCounts[i] ?? 0) - due
      this.readyCounts[i] = (this.readyCounts[i] ?? 0) + due
    }
  }
}
