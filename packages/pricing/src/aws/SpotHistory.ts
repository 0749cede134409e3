/**
 * Spot price history → the latest price per instance type and AZ, plus how much it moved. Pure.
 *
 * `DescribeSpotPriceHistory` returns price *changes*: each point holds until the next one. So the mean is
 * time-weighted over the window, and volatility is the time-weighted coefficient of variation
 * (standard deviation / mean), 0 for a price that never moved.
 */
import type { SpotMarket } from "./MarketData.ts"

export interface SpotPricePoint {
  readonly instanceType: string
  /** AZ name as EC2 reports it (`us-east-1a`); mapped to the AZ ID with `DescribeAvailabilityZones`. */
  readonly availabilityZone: string
  /** Newer API versions also report the ID; preferred when present. */
  readonly availabilityZoneId: string | undefined
  readonly priceUsd: number
  readonly at: Date
}

export const summarizeSpotHistory = (
  points: ReadonlyArray<SpotPricePoint>,
  zoneIdByName: ReadonlyMap<string, string>,
  windowEnd: Date
): ReadonlyArray<SpotMarket> => {
  const groups = new Map<string, Array<SpotPricePoint>>()
  for (const point of points) {
    const key = `${point.instanceType}\u0000${point.availabilityZone}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [point])
    else group.push(point)
  }
  const out: Array<SpotMarket> = []
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => a.at.getTime() - b.at.getTime())
    const latest = sorted[sorted.length - 1]
    const first = sorted[0]
    if (latest === undefined || first === undefined) continue
    const zoneId = latest.availabilityZoneId ?? zoneIdByName.get(latest.availabilityZone)
    // Without an AZ ID the price cannot be matched across accounts; such a zone is left out.
    if (zoneId === undefined) continue
    let weighted = 0
    let weightedSquares = 0
    let totalMillis = 0
    sorted.forEach((point, index) => {
      const until = sorted[index + 1]?.at.getTime() ?? Math.max(windowEnd.getTime(), point.at.getTime())
      const millis = Math.max(until - point.at.getTime(), 0)
      weighted += point.priceUsd * millis
      weightedSquares += point.priceUsd * point.priceUsd * millis
      totalMillis += millis
    })
    const meanUsd = totalMillis > 0 ? weighted / totalMillis : latest.priceUsd
    const variance = totalMillis > 0 ? Math.max(weightedSquares / totalMillis - meanUsd * meanUsd, 0) : 0
    const prices = sorted.map((point) => point.priceUsd)
    out.push({
      instanceType: latest.instanceType,
      availabilityZoneId: zoneId,
      availabilityZone: latest.availabilityZone,
      latestUsd: latest.priceUsd,
      latestAt: latest.at.toISOString(),
      pricePoints: sorted.length,
      minUsd: Math.min(...prices),
      maxUsd: Math.max(...prices),
      meanUsd,
      volatility: meanUsd > 0 ? Math.sqrt(variance) / meanUsd : 0
    })
  }
  return out.sort((a, b) =>
    a.instanceType === b.instanceType
      ? a.availabilityZoneId.localeCompare(b.availabilityZoneId)
      : a.instanceType.localeCompare(b.instanceType)
  )
}
