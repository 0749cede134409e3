import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import {
  frugalPolicy,
  greedyPolicy,
  type JobSpec,
  onDemandPolicy,
  OptimalBoundSolver,
  OptimalSolver,
  Simulator,
  type SpotTrace,
  uniformProgressPolicy,
  zoneSet,
  type ZoneSet
} from "../../src/index.ts"

const trace = (name: string, bits: ReadonlyArray<number>, prices?: ReadonlyArray<number>): SpotTrace => ({
  name,
  tickHours: 1,
  available: Uint8Array.from(bits),
  spotPriceUsdPerHour: prices === undefined ? null : Float64Array.from(prices)
})

/** Every schedule over the window, by brute force: the cheapest that finishes (tiny cases only). */
const bruteForce = (set: ZoneSet, job: JobSpec): number => {
  const window = Math.floor(job.deadlineHours / set.tickHours + 1e-9)
  const options = 2 + set.zones.length
  let best = Infinity
  const choice = new Array<number>(window).fill(0)
  const total = options ** window
  for (let code = 0; code < total; code++) {
    let rest = code
    for (let t = 0; t < window; t++) {
      choice[t] = rest % options
      rest = Math.floor(rest / options)
    }
    const outcome = new Simulator(set).run(job, {
      name: "script",
      decide: (state) => {
        const c = choice[Math.round(state.elapsedHours / set.tickHours)] ?? 0
        return c === 0 ? { kind: "none" } : c === 1 ? { kind: "on-demand" } : { kind: "spot", zone: c - 2 }
      }
    }, 0, 1)
    if (!outcome.missedDeadline && outcome.costUsd < best) best = outcome.costUsd
  }
  return best
}

const job = (computeHours: number, deadlineHours: number, changeoverHours: number): JobSpec => ({
  computeHours,
  deadlineHours,
  changeoverHours,
  onDemandPriceUsdPerHour: 3,
  spotPriceUsdPerHour: 1,
  useTracePrices: true
})

describe("optimal", () => {
  it("equals the cheapest of all schedules on small traces, one zone and two", () => {
    const cases: ReadonlyArray<[ZoneSet, JobSpec]> = [
      [zoneSet("a", [trace("a_x", [1, 0, 1, 1, 0, 1, 1, 1])]), job(4, 7, 0.5)],
      [zoneSet("a", [trace("a_x", [0, 1, 1, 0, 0, 1, 1, 0])]), job(3, 8, 1)],
      [zoneSet("ab", [trace("a_x", [1, 1, 0, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]), trace("b_x", [0, 1, 1, 1, 0, 0, 1], [2, 2, 2, 2, 2, 2, 2])]), job(4, 7, 0.5)]
    ]
    for (const [set, spec] of cases) {
      const exact = new OptimalSolver(set).run(spec, 0)
      expect(exact.costUsd).toBeCloseTo(bruteForce(set, spec), 9)
      expect(new OptimalBoundSolver(set).run(spec, 0).costUsd).toBeLessThanOrEqual(exact.costUsd + 1e-9)
    }
  })

  it("property: no policy costs less than optimal, none misses a deadline on-demand could meet", () => {
    const policies = [onDemandPolicy, greedyPolicy, uniformProgressPolicy, frugalPolicy]
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 48, maxLength: 48 }), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 4, max: 30 }),
        fc.integer({ min: 0, max: 16 }),
        fc.constantFrom(0.25, 0.5, 1, 1.5),
        fc.double({ min: 0.3, max: 2.5, noNaN: true }),
        (zones, computeTicks, slackTicks, changeoverTicks, spotPrice) => {
          const g = 0.5
          const set = zoneSet("random", zones.map((bits, z) => trace(`z${z}_x`, bits, bits.map(() => spotPrice * (1 + z / 4)))))
          const scaled = { ...set, tickHours: g, zones: set.zones.map((t) => ({ ...t, tickHours: g })) }
          const spec = job(computeTicks * g, (computeTicks + slackTicks) * g + changeoverTicks * g, changeoverTicks * g)
          const optimal = new OptimalSolver(scaled).run(spec, 0)
          const bound = new OptimalBoundSolver(scaled).run(spec, 0)
          const feasible = spec.computeHours + spec.changeoverHours <= Math.floor(spec.deadlineHours / g + 1e-9) * g + 1e-9
          expect(optimal.missedDeadline).toBe(!feasible)
          if (!feasible) return
          expect(bound.costUsd).toBeLessThanOrEqual(optimal.costUsd + 1e-9)
          const simulator = new Simulator(scaled)
          for (const policy of policies) {
            const outcome = simulator.run(spec, policy, 0, 7)
            expect(outcome.missedDeadline).toBe(false)
            expect(outcome.costUsd).toBeGreaterThanOrEqual(optimal.costUsd - 1e-9)
          }
        }
      ),
      { numRuns: 300, seed: 20240416 }
    )
  })
})
