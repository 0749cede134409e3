import { describe, expect, it } from "@effect/vitest"
import { EventSpotHistory, frugalPolicy, type Policy, Simulator, startTicks, zoneSet } from "../../src/index.ts"
import { loadTraces, OCT_2022, paperJob } from "../simulate/Traces.ts"

describe("EventSpotHistory (the Supervisor's history)", () => {
  it("gives the policy the same decisions as the simulator's trace history when fed the same events", () => {
    const traces = loadTraces(OCT_2022).filter((t) => t.name.endsWith("_v100_8"))
    const set = zoneSet("v100_8", traces)
    const job = paperJob(0.8, 0.2)
    let compared = 0
    for (const start of startTicks(set, job, 5, 11)) {
      const events = new EventSpotHistory()
      let fedUpTo = 0
      // Every tick from the trace's start to now, as the Supervisor would have recorded it.
      const checking: Policy = {
        name: "checking",
        decide: (state, history) => {
          const now = start + Math.round(state.elapsedHours / set.tickHours)
          for (; fedUpTo <= now; fedUpTo++) {
            traces.forEach((trace, zone) => events.observe(zone, trace.available[fedUpTo] === 1, fedUpTo * set.tickHours))
          }
          events.advanceTo(now * set.tickHours)
          const fromTrace = frugalPolicy.decide(state, history)
          expect(frugalPolicy.decide(state, events)).toEqual(fromTrace)
          for (let zone = 0; zone < traces.length; zone++) {
            expect(events.currentStateHours(zone)).toBeCloseTo(history.currentStateHours(zone), 9)
            expect(events.completedSpotPeriods(zone)).toBe(history.completedSpotPeriods(zone))
            expect(events.observedHours(zone)).toBeCloseTo(history.observedHours(zone), 9)
            expect(events.availableHours(zone)).toBeCloseTo(history.availableHours(zone), 9)
          }
          compared++
          return fromTrace
        }
      }
      const outcome = new Simulator(set).run(job, checking, start, 1)
      expect(outcome.missedDeadline).toBe(false)
    }
    expect(compared).toBeGreaterThan(1000)
  })
})
