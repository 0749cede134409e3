/** Plan, estimate and list GPU prices: `frugal plan`, `frugal estimate`, `frugal gpus`, on the embedded snapshot. */
import { readFileSync } from "node:fs"
import { Frugal, isFleetPlan } from "@frugal/sdk"

await using frugal = Frugal.make() // embedded price snapshot: offline, no AWS account

const plan = await frugal.plan(readFileSync("examples/llama-7b-finetune.yaml", "utf8"), { top: 3 })
if (!isFleetPlan(plan)) {
  for (const option of plan.options) {
    console.log(`${option.instanceType} ${option.purchaseOption} in ${option.availabilityZone ?? option.region}: $${option.expectedCostUsd} over ${option.expectedHours} h`)
  }
}

const fleet = await frugal.plan(readFileSync("examples/fleet.yaml", "utf8"))
if (isFleetPlan(fleet)) console.log(`fleet: ${fleet.summary.feasible} of ${fleet.summary.workloads} placed, jobs $${fleet.summary.jobsCostUsd}`)

const estimate = await frugal.estimate({
  name: "gpt3-serving",
  kind: "inference",
  model: { parameters: "175B", precision: "fp16" },
  inference: { tokensPerSecond: 500 }
})
if (!("workloads" in estimate)) {
  console.log(`${estimate.memory.weightsGiB.toFixed(1)} GiB of weights per GPU on ${estimate.memory.gpus} × ${estimate.memory.accelerator}`)
}

const prices = await frugal.gpus({ region: "us-east-1", gpu: "H100" })
for (const row of prices.instances) {
  console.log(`${row.instanceType}: ${row.acceleratorCount} × ${row.accelerator}, on demand $${row.onDemandHourlyUsd}/h, spot $${row.spot?.hourlyPriceUsd}/h`)
}
