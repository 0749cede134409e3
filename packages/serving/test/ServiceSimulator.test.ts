import { describe, expect, it } from "vitest"
import { Fleet, ON_DEMAND, POLICY_FACTORIES, simulatePolicies, simulateService, SPOT } from "../src/index.ts"
import { always, constantLoad, gap, scenario, service, zone } from "./support/Scenarios.ts"

describe("the fleet's books", () => {
  it("a launch serves one cold start later; terminating takes the newest launch first, then ready replicas", () => {
    const fleet = new Fleet(1, 5)
    fleet.seed(0, SPOT, 2)
    fleet.launch(0, SPOT, 1, 0)
    fleet.launch(0, SPOT, 1, 3)
    expect([fleet.ready(0, SPOT), fleet.launching(0, SPOT)]).toEqual([2, 2])
    fleet.promote(5)
    expect([fleet.ready(0, SPOT), fleet.launching(0, SPOT)]).toEqual([3, 1])
    expect(fleet.terminate(0, SPOT, 2, 6)).toBe(2)
    expect([fleet.ready(0, SPOT), fleet.launching(0, SPOT)]).toEqual([2, 0])
    fleet.promote(8)
    expect(fleet.ready(0, SPOT)).toBe(2)
  })

  it("a reclaim takes every spot replica of the zone, ready or launching, and leaves on-demand alone", () => {
    const fleet = new Fleet(2, 5)
    fleet.seed(0, SPOT, 3)
    fleet.seed(0, ON_DEMAND, 1)
    fleet.launch(0, SPOT, 2, 0)
    expect(fleet.reclaim(0)).toBe(5)
    fleet.promote(5)
    expect([fleet.totalHeld(SPOT), fleet.totalHeld(ON_DEMAND)]).toEqual([0, 1])
  })
})

describe("the service simulator", () => {
  it("bills on-demand replicas autoscaled by the rule: 6 req/s at 1 per replica is 6 replicas, $60 over 10 h", () => {
    const outcome = simulateService(scenario(), POLICY_FACTORIES["on-demand"])
    expect(outcome.meanReplicas).toBe(6)
    expect(outcome.costUsd).toBeCloseTo(60, 9)
    expect(outcome.onDemandReplicaHours).toBeCloseTo(60, 9)
    expect(outcome.availability).toBe(1)
    expect(outcome.overloadedRequestsPct).toBe(0)
  })

  it("provisions static on-demand for the busiest minute of the trace", () => {
    const arrivals = constantLoad(600, 120)
    arrivals[300] = 1200
    const outcome = simulateService(scenario({ arrivalsPerMinute: arrivals }), POLICY_FACTORIES["static-on-demand"])
    expect(outcome.meanReplicas).toBe(20)
  })

  it("counts requests beyond the ready replicas' capacity as over capacity", () => {
    // Two replicas serve 240 a minute; 360 arrive and max forbids more.
    const outcome = simulateService(scenario({ service: service({ replicas: { min: 2, max: 2 } }) }), POLICY_FACTORIES["on-demand"])
    expect(outcome.overloadedRequestsPct).toBeCloseTo((100 * 120) / 360, 9)
  })

  it("spot-only drops below min while its only zone has no spot; frugal falls back to on-demand and returns to spot", () => {
    const zones = [zone("us-east-2a", gap(600, 100, 300))]
    const single = scenario({ zones, service: service({ zones: { min: 1 } }) })
    const spotOnly = simulateService(single, POLICY_FACTORIES["spot-only"])
    expect(spotOnly.availability).toBeLessThan(0.7)
    expect(spotOnly.preemptions).toBe(6)
    const frugal = simulateService(single, POLICY_FACTORIES["frugal"], { timeline: true })
    const timeline = frugal.timeline
    if (timeline === null) throw new Error("timeline asked for")
    // Reclaimed at 100: on-demand launched at once serves from 105; spot back at 300 replaces it by 305.
    expect(timeline.onDemandHeld[99]).toBeLessThan(timeline.onDemandHeld[150] ?? 0)
    expect(timeline.ready[150]).toBeGreaterThanOrEqual(6)
    // Back on spot (a little more on-demand than before: the zone has shown it can be reclaimed).
    expect(timeline.onDemandHeld[400]).toBeLessThan(timeline.onDemandHeld[150] ?? 0)
    expect((timeline.held[400] ?? 0) - (timeline.onDemandHeld[400] ?? 0)).toBeGreaterThanOrEqual(3)
    expect(frugal.availability).toBeGreaterThan(0.99)
    expect(frugal.costUsd).toBeLessThan(simulateService(single, POLICY_FACTORIES["on-demand"]).costUsd)
  })

  it("keeps on-demand serving until the spot replacing it is ready (make before break)", () => {
    const zones = [zone("us-east-2a", gap(600, 100, 300))]
    const outcome = simulateService(scenario({ zones, service: service({ zones: { min: 1 } }) }), POLICY_FACTORIES["frugal"], { timeline: true })
    const ready = outcome.timeline?.ready ?? new Int32Array()
    for (let t = 300; t < 320; t++) expect(ready[t]).toBeGreaterThanOrEqual(3)
  })

  it("reports each policy's cost against on-demand autoscaled, running it when not asked for", () => {
    const result = simulatePolicies(scenario(), ["frugal", "spot-only"])
    expect(Object.keys(result)).toEqual(["frugal", "spot-only"])
    const onDemand = simulateService(scenario(), POLICY_FACTORIES["on-demand"]).costUsd
    expect(result["frugal"]?.costVsOnDemand).toBeCloseTo((result["frugal"]?.costUsd ?? 0) / onDemand, 12)
    expect(result["frugal"]?.costVsOnDemand).toBeLessThan(0.6)
  })

  it("uses on-demand only when the service does not allow spot, whatever the zones", () => {
    const outcome = simulateService(scenario({ service: service({ spot: false }) }), POLICY_FACTORIES["frugal"])
    expect(outcome.spotReplicaHours).toBe(0)
    expect(outcome.costUsd).toBeCloseTo(60, 9)
  })

  it("SkyServe keeps its whole service in the cheapest zone; SpotHedge spreads it and over-provisions two", () => {
    const zones = [zone("us-east-2a", always(600), 0.2), zone("us-west-2a", always(600), 0.4), zone("us-east-1a", always(600), 0.5)]
    const sky = simulateService(scenario({ zones }), POLICY_FACTORIES["skyserve"], { timeline: true })
    expect(sky.timeline?.zonesUsed[10]).toBe(1)
    expect(sky.costUsd).toBeCloseTo(10 * (1 + 5 * 0.2), 9)
    const hedge = simulateService(scenario({ zones }), POLICY_FACTORIES["spothedge"], { timeline: true })
    expect(hedge.timeline?.held[10]).toBe(8)
    expect(hedge.timeline?.zonesUsed[10]).toBe(3)
  })
})
