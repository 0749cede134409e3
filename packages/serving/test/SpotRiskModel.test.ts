import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type LossModel, PRIOR_HOURS, probabilityLossExceeds, reclaimProbability, SpotRiskEstimate } from "../src/index.ts"

/** P(loss > allowed) by enumerating every outcome of every zone and region: the definition the DP must match. */
const bruteForce = (spot: ReadonlyArray<number>, model: LossModel, allowed: number): number => {
  const zones = spot.length
  const regions = model.regionProbability.length
  let total = 0
  for (let regionMask = 0; regionMask < 1 << regions; regionMask++) {
    let regionWeight = 1
    for (let r = 0; r < regions; r++) {
      const q = model.regionProbability[r] ?? 0
      regionWeight *= (regionMask >> r) & 1 ? q : 1 - q
    }
    for (let zoneMask = 0; zoneMask < 1 << zones; zoneMask++) {
      let weight = regionWeight
      let loss = 0
      for (let z = 0; z < zones; z++) {
        const p = model.zoneProbability[z] ?? 0
        const zoneLost = ((zoneMask >> z) & 1) === 1
        weight *= zoneLost ? p : 1 - p
        const regionLost = ((regionMask >> (model.regionOfZone[z] ?? 0)) & 1) === 1
        if (zoneLost || regionLost) loss += spot[z] ?? 0
      }
      if (loss > allowed) total += weight
    }
  }
  return total
}

describe("the loss distribution", () => {
  it("is 1 − e^(−λ·w) for one zone: λ = 0.5/h over a 6-minute cold start is 4.88%", () => {
    expect(reclaimProbability(0.5, 0.1)).toBeCloseTo(0.04877, 5)
    const model: LossModel = {
      zoneProbability: Float64Array.of(reclaimProbability(0.5, 0.1)),
      regionOfZone: Int32Array.of(0),
      regionProbability: Float64Array.of(0)
    }
    expect(probabilityLossExceeds([4], model, 3)).toBeCloseTo(0.04877, 5)
    expect(probabilityLossExceeds([4], model, 4)).toBe(0)
  })

  it("a regional event takes every zone of its region: two zones of one region lost together", () => {
    const model: LossModel = {
      zoneProbability: Float64Array.of(0, 0, 0),
      regionOfZone: Int32Array.of(0, 0, 1),
      regionProbability: Float64Array.of(0.1, 0)
    }
    expect(probabilityLossExceeds([2, 2, 5], model, 3)).toBeCloseTo(0.1, 12)
    expect(probabilityLossExceeds([2, 2, 5], model, 4)).toBe(0)
  })

  it("matches brute-force enumeration on random placements, zones, regions and thresholds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: -1, max: 20 }),
        (spot, zoneP, regionOf, regionP, allowed) => {
          const model: LossModel = {
            zoneProbability: Float64Array.from(zoneP.slice(0, spot.length)),
            regionOfZone: Int32Array.from(regionOf.slice(0, spot.length)),
            regionProbability: Float64Array.from(regionP)
          }
          expect(probabilityLossExceeds(spot, model, allowed)).toBeCloseTo(bruteForce(spot, model, allowed), 10)
        }
      ),
      { numRuns: 300, seed: 14 }
    )
  })
})

describe("the online rate estimate", () => {
  const minute = 1 / 60
  const feed = (estimate: SpotRiskEstimate, steps: ReadonlyArray<ReadonlyArray<number>>) => {
    for (const step of steps) estimate.observe(Uint8Array.from(step), minute)
  }

  it("starts at the prior and moves towards reclaims ÷ hours exposed", () => {
    const estimate = new SpotRiskEstimate([0], [0.03])
    expect(estimate.zoneEventsPerHour(0)).toBeCloseTo(0.03, 12)
    // 24 h up with 6 reclaims, each followed by a minute down: 6 events over ~24 h exposed.
    const day: Array<Array<number>> = []
    for (let i = 0; i < 24 * 60; i++) day.push([i % 240 === 239 ? 0 : 1])
    feed(estimate, day)
    const exposed = (24 * 60 - 6) / 60
    expect(estimate.zoneEventsPerHour(0)).toBeCloseTo((6 + 0.03 * PRIOR_HOURS) / (exposed + PRIOR_HOURS), 6)
  })

  it("counts zones of one region lost in the same minute as one regional event, not as zone reclaims", () => {
    const estimate = new SpotRiskEstimate([0, 0, 1], [0, 0, 0])
    feed(estimate, [[1, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 0]])
    // Exposure starts after the first observation: the region was exposed (two zones up) for two minutes.
    expect(estimate.regionEventsPerHour(0)).toBeCloseTo(1 / (2 * minute + PRIOR_HOURS), 9)
    expect(estimate.zoneEventsPerHour(0)).toBe(0)
    expect(estimate.zoneEventsPerHour(2)).toBeCloseTo(1 / (3 * minute + PRIOR_HOURS), 9)
    expect(estimate.regionEventsPerHour(1)).toBe(0)
  })
})
