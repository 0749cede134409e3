/**
 * One cost model, two ways: the planner's analytical expected cost of a spot job (`spotJob`) against the trace
 * simulator running Frugal's policy on the same traces for the same job. Each trace gives the model its own
 * availability, mean spot period and mean price; the job is the paper's (C = 48 h, deadline C / fraction,
 * changeover d, p3.2xlarge at $3.06 on-demand). The check is on the mean over a trace set, as the planner prices a
 * pool it knows only by such averages.
 */
import { describe, expect, it } from "@effect/vitest"
import { frugalPolicy, runExperiment, type SpotTrace, zoneSet } from "../src/index.ts"
import { spotJob } from "../src/SpotJob.ts"
import { FEB_2023, loadTraces, OCT_2022, PAPER_ON_DEMAND_USD, PAPER_SPOT_USD, paperJob } from "./simulate/Traces.ts"

/** Availability, mean spot period, mean outage and mean spot price of a trace, as a pool's statistics. */
const poolStatistics = (trace: SpotTrace) => {
  let up = 0
  let spotRuns = 0
  let price = 0
  let priced = 0
  for (let i = 0; i < trace.available.length; i++) {
    const available = trace.available[i] === 1
    if (available) {
      up++
      if (trace.spotPriceUsdPerHour !== null) {
        price += trace.spotPriceUsdPerHour[i] ?? 0
        priced++
      }
      if (i === 0 || trace.available[i - 1] !== 1) spotRuns++
    }
  }
  return {
    availability: up / trace.available.length,
    meanSpotRunHours: (up * trace.tickHours) / Math.max(1, spotRuns),
    spotUsdPerHour: priced > 0 ? price / priced : PAPER_SPOT_USD
  }
}

const STARTS = 100

const compare = (dir: string, fraction: number, changeoverHours: number) => {
  const job = paperJob(fraction, changeoverHours)
  const onDemandOnly = (job.computeHours + changeoverHours) * PAPER_ON_DEMAND_USD
  let simulated = 0
  let modelled = 0
  const traces = loadTraces(dir)
  for (const trace of traces) {
    const summary = runExperiment([zoneSet(trace.name, [trace])], job, [frugalPolicy], { starts: STARTS, seed: 1 })["frugal"]
    if (summary === undefined) throw new Error("no frugal summary")
    simulated += summary.meanCostNormalized
    const pool = poolStatistics(trace)
    const outcome = spotJob({
      computeHours: job.computeHours,
      deadlineHours: job.deadlineHours,
      launchHours: changeoverHours,
      // The simulator's changeover covers the restore and the work lost: one per spot period held.
      spotProgressPerHour: Math.max(0.01, 1 - changeoverHours / pool.meanSpotRunHours),
      meanSpotRunHours: pool.meanSpotRunHours,
      availability: pool.availability,
      spotUsdPerHour: pool.spotUsdPerHour,
      onDemandUsdPerHour: PAPER_ON_DEMAND_USD
    })
    modelled += outcome.costUsd / onDemandOnly
  }
  return { simulated: simulated / traces.length, modelled: modelled / traces.length }
}

describe("the analytical spot-job cost against the simulator on the same traces", () => {
  for (const dir of [OCT_2022, FEB_2023]) {
    for (const fraction of [0.6, 0.8, 0.9]) {
      it(`agrees within 15% on ${dir.slice(-10)} at deadline fraction ${fraction} for changeovers of 0.1, 0.2 and 0.4 h`, () => {
        for (const d of [0.1, 0.2, 0.4]) {
          const { simulated, modelled } = compare(dir, fraction, d)
          console.log(`| ${dir.slice(-10)} | ${fraction} | ${d} | ${simulated.toFixed(3)} | ${modelled.toFixed(3)} | ${(((modelled - simulated) / simulated) * 100).toFixed(1)}% |`)
          expect(Math.abs(modelled - simulated) / simulated, `d ${d}`).toBeLessThanOrEqual(0.15)
        }
      })
    }
  }
})
