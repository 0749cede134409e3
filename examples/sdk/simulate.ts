/** Spot policies replayed over real availability traces (`frugal simulate`): the NSDI '24 "Can't Be Late" traces. */
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()

const simulated = await frugal.simulate({
  trace: "packages/planner/data/spot-traces/availability/1-node/aws-10-26-2022",
  policies: ["on-demand", "greedy", "frugal"],
  computeHours: 48,
  deadlineHours: 60,
  restartHours: 0.2,
  starts: 50,
  seed: 1
})
for (const [name, summary] of Object.entries(simulated.policies)) {
  console.log(`${name}: cost ${summary.meanCostNormalized.toFixed(3)} of on-demand, ${summary.deadlineMisses} deadline misses in ${summary.runs} runs`)
}
