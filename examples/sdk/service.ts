/** An inference service that scales itself (`frugal service plan|simulate|apply --dry-run`), offline. */
import { readFileSync } from "node:fs"
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()
const service = readFileSync("examples/service-chat.yaml", "utf8")

const plan = await frugal.service.plan(service)
const target = plan.placements.atTarget
console.log(`plan: ${target.replicas} × ${plan.replica.instanceType} in ${plan.region} (${target.onDemand} on demand), $${target.monthlyCostUsd}/month`)

// A day of the Azure LLM chat trace against the spot availability of nine zones.
const simulated = await frugal.service.simulate(service, {
  requests: "packages/serving/data/request-traces/AzureLLMInferenceTrace_conv.csv",
  spotTraces: "packages/planner/data/spot-traces/availability/1-node/aws-02-15-2023",
  policies: ["frugal", "spothedge"],
  days: 1
})
for (const [name, summary] of Object.entries(simulated.policies)) {
  console.log(`simulate: ${name}: ${summary.costVsOnDemand.toFixed(2)} of on-demand, available ${(100 * summary.availability).toFixed(1)}%`)
}

// What `kubectl apply -f -` would get; `dryRun: false` on `ec2-asg` creates the Auto Scaling group itself.
const applied = await frugal.service.apply(service, { engine: "kubernetes", infra: "examples/service/infra.yaml", dryRun: true })
if (applied.action === "print" && applied.engine === "kubernetes") {
  console.log(`apply: ${applied.objects.map((object) => ("kind" in object ? object.kind : "?")).join(", ")}`)
}
