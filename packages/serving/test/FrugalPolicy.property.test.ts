/**
 * Frugal's serving policy against random loads and random spot availability (fast-check): whatever the traces,
 * - never more than replicas.max replicas held, launching ones included;
 * - never fewer than replicas.min held, and replicas.min ready whenever capacity exists: the only exceptions are
 *   the cold start after a reclaim (nothing can serve sooner);
 * - the on-demand base is always on-demand: at least min(onDemandBase, replicas.min) on-demand replicas held.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { POLICY_FACTORIES, simulateService } from "../src/index.ts"
import { scenario, service, zone } from "./support/Scenarios.ts"

const MINUTES = 720

/** Availability as runs: each zone alternates up/down spells of random length. */
const availability = fc.array(fc.integer({ min: 1, max: 240 }), { minLength: 1, maxLength: 40 }).chain((spells) =>
  fc.boolean().map((startUp) => {
    const out = new Uint8Array(MINUTES)
    let t = 0
    let up = startUp
    for (let i = 0; t < MINUTES; i++) {
      const length = spells[i % spells.length] ?? 60
      out.fill(up ? 1 : 0, t, Math.min(MINUTES, t + length))
      t += length
      up = !up
    }
    return out
  })
)

/** Load as a random walk of requests per minute, with bursts. */
const load = fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 4, maxLength: 48 }).map((levels) =>
  Float64Array.from({ length: MINUTES }, (_, t) => levels[Math.floor((t / MINUTES) * levels.length)] ?? 0)
)

const settings = fc.record({
  min: fc.integer({ min: 1, max: 6 }),
  extra: fc.integer({ min: 0, max: 30 }),
  onDemandBase: fc.integer({ min: 0, max: 6 }),
  zonesMin: fc.integer({ min: 1, max: 4 }),
  coldStartSeconds: fc.constantFrom(0, 60, 300, 900),
  target: fc.constantFrom(1, 2, 4)
})

describe("Frugal's serving policy on random load and availability traces", () => {
  it("holds max, min and the on-demand base, and keeps min ready except within a cold start of a reclaim", () => {
    fc.assert(
      fc.property(
        settings,
        load,
        fc.array(availability, { minLength: 1, maxLength: 5 }),
        (s, arrivals, zoneTraces) => {
          const max = s.min + s.extra
          const base = Math.min(s.onDemandBase, max)
          const svc = service({
            replicas: { min: s.min, max },
            target: { requestsPerSecondPerReplica: s.target },
            onDemandBase: base,
            zones: { min: s.zonesMin },
            coldStartSeconds: s.coldStartSeconds,
            scaleInWindowMinutes: 5
          })
          const zones = zoneTraces.map((trace, i) => zone(`us-${["east", "west"][i % 2]}-${1 + (i % 3)}${"abcde"[i]}`, trace, 0.2 + 0.05 * i))
          const outcome = simulateService(scenario({ service: svc, arrivalsPerMinute: arrivals, zones }), POLICY_FACTORIES["frugal"], { timeline: true })
          const timeline = outcome.timeline
          if (timeline === null) throw new Error("timeline asked for")
          const coldStart = Math.ceil(s.coldStartSeconds / 60)
          let lastReclaim = Number.NEGATIVE_INFINITY
          for (let t = 0; t < MINUTES; t++) {
            if ((timeline.reclaimed[t] ?? 0) > 0) lastReclaim = t
            const held = timeline.held[t] ?? 0
            expect(held).toBeLessThanOrEqual(max)
            expect(held).toBeGreaterThanOrEqual(s.min)
            expect(timeline.onDemandHeld[t]).toBeGreaterThanOrEqual(Math.min(base, s.min))
            if (t - lastReclaim >= coldStart) expect(timeline.ready[t]).toBeGreaterThanOrEqual(s.min)
          }
        }
      ),
      { numRuns: 150, seed: 2411 }
    )
  })

  it("every baseline also stays within replicas.max", () => {
    fc.assert(
      fc.property(settings, load, fc.array(availability, { minLength: 1, maxLength: 4 }), (s, arrivals, zoneTraces) => {
        const max = s.min + s.extra
        const svc = service({ replicas: { min: s.min, max }, onDemandBase: Math.min(s.onDemandBase, max), coldStartSeconds: s.coldStartSeconds })
        const zones = zoneTraces.map((trace, i) => zone(`us-east-${i + 1}a`, trace))
        for (const name of ["on-demand", "static-on-demand", "skyserve", "spothedge", "spot-only"] as const) {
          const timeline = simulateService(scenario({ service: svc, arrivalsPerMinute: arrivals, zones }), POLICY_FACTORIES[name], { timeline: true }).timeline
          expect(Math.max(...(timeline?.held ?? []))).toBeLessThanOrEqual(max)
        }
      }),
      { numRuns: 40, seed: 7 }
    )
  })
})
