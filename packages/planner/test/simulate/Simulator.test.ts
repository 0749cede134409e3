import { describe, expect, it } from "@effect/vitest"
import {
  type Holding,
  NONE,
  ON_DEMAND,
  type Policy,
  Simulator,
  type SpotTrace,
  spotIn,
  zoneSet
} from "../../src/index.ts"

const trace = (name: string, bits: string, prices?: ReadonlyArray<number>): SpotTrace => ({
  name,
  tickHours: 1,
  available: Uint8Array.from([...bits].map((c) => (c === "1" ? 1 : 0))),
  spotPriceUsdPerHour: prices === undefined ? null : Float64Array.from(prices)
})

/** Plays a fixed script of holdings, one per tick. */
const scripted = (script: ReadonlyArray<Holding>): Policy => ({
  name: "script",
  decide: (state) => script[Math.round(state.elapsedHours)] ?? NONE
})

const job = {
  computeHours: 3,
  deadlineHours: 8,
  changeoverHours: 0.5,
  onDemandPriceUsdPerHour: 4,
  spotPriceUsdPerHour: 1,
  useTracePrices: false
}

describe("Simulator", () => {
  it("bills the changeover of a launch without progress and releases the instance when the job completes", () => {
    const outcome = new Simulator(zoneSet("z", [trace("a_x", "11111111")])).run(job, scripted([spotIn(0), spotIn(0), spotIn(0), spotIn(0)]), 0, 1)
    // 0.5 h changeover + 3 h of work = 3.5 spot hours at $1.
    expect(outcome.costUsd).toBeCloseTo(3.5, 9)
    expect(outcome.spotComputeHours).toBeCloseTo(3, 9)
    expect(outcome.onDemandComputeHours).toBe(0)
    expect(outcome.launches).toBe(1)
    expect(outcome.missedDeadline).toBe(false)
    expect(outcome.costNormalized).toBeCloseTo(3.5 / (3.5 * 4), 9)
  })

  it("pre-empts spot when its zone turns unavailable and charges the changeover again on relaunch", () => {
    // Spot for 2 ticks (1.5 h of work), pre-empted at tick 2, on-demand from tick 2: 0.5 + 1.5 h.
    const outcome = new Simulator(zoneSet("z", [trace("a_x", "11000000")])).run(
      job,
      scripted([spotIn(0), spotIn(0), ON_DEMAND, ON_DEMAND, ON_DEMAND]),
      0,
      1
    )
    expect(outcome.spotComputeHours).toBeCloseTo(1.5, 9)
    expect(outcome.onDemandComputeHours).toBeCloseTo(1.5, 9)
    expect(outcome.costUsd).toBeCloseTo(2 * 1 + 2 * 4, 9)
    expect(outcome.launches).toBe(2)
  })

  it("treats a move between zones as a launch and uses each zone's own prices", () => {
    const set = zoneSet("z", [trace("a_x", "11000000", [2, 2, 2, 2, 2, 2, 2, 2]), trace("b_x", "11111111", [1, 1, 1, 1, 1, 1, 1, 1])])
    const outcome = new Simulator(set).run({ ...job, useTracePrices: true }, scripted([spotIn(0), spotIn(1), spotIn(1), spotIn(1), spotIn(1)]), 0, 1)
    // Zone a: 1 tick at $2 (0.5 h work). Zone b: changeover again, then 2.5 h of work: 3 h at $1.
    expect(outcome.costUsd).toBeCloseTo(2 + 3, 9)
    expect(outcome.launches).toBe(2)
    expect(outcome.spotComputeHours).toBeCloseTo(3, 9)
  })

  it("counts a deadline miss when the work is not done within the last whole tick before the deadline", () => {
    const outcome = new Simulator(zoneSet("z", [trace("a_x", "00000000")])).run(job, scripted([]), 0, 1)
    expect(outcome.missedDeadline).toBe(true)
    expect(outcome.costUsd).toBe(0)
  })

  it("ignores a policy's request for spot in a zone without capacity", () => {
    const outcome = new Simulator(zoneSet("z", [trace("a_x", "00000000")])).run(job, scripted([spotIn(0)]), 0, 1)
    expect(outcome.launches).toBe(0)
    expect(outcome.costUsd).toBe(0)
  })
})
