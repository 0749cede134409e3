/** `frugal service status`: desired and ready replicas of the Auto Scaling group, by market and zone. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { InvalidInput } from "@frugal/core"
import { type EngineInput, planOnInfra } from "./Engines.ts"

interface Input extends EngineInput {
  readonly engine: "ec2-asg" | "kubernetes"
  readonly json: boolean
}

export const run = Effect.fnUntraced(function*(input: Input) {
  if (input.engine === "kubernetes") {
    return yield* new InvalidInput({
      source: "--engine",
      issues: [{ path: "--engine", expected: "ec2-asg (for Kubernetes: kubectl get deploy,scaledobject -l app.kubernetes.io/name=<service>)", actual: "kubernetes" }]
    })
  }
  const { plan } = yield* planOnInfra(input)
  const aws = yield* Effect.promise(() => import("@frugal/serving/aws"))
  const { AwsCallSettingsFromEnv } = yield* Effect.promise(() => import("@frugal/pricing/aws"))
  const status = yield* aws.autoScalingStatus(plan.region, aws.groupName(plan)).pipe(
    Effect.provide(Layer.merge(aws.ServiceAwsClients.layer, AwsCallSettingsFromEnv)),
    Effect.scoped
  )
  if (input.json) return yield* Console.log(JSON.stringify(status, null, 2))
  if (!status.exists) return yield* Console.log(`${status.groupName} does not exist in ${status.region}.`)
  yield* Console.log([
    `${status.groupName} in ${status.region}: ${status.ready} of ${status.desired} desired replicas ready (min ${status.min}, max ${status.max}).`,
    `  spot: ${status.byMarket.spot.ready}/${status.byMarket.spot.instances} ready; on-demand: ${status.byMarket.onDemand.ready}/${status.byMarket.onDemand.instances} ready.`,
    ...Object.entries(status.byZone).map(([zone, z]) =>
      `  ${zone}: spot ${z.spot.ready}/${z.spot.instances}, on-demand ${z.onDemand.ready}/${z.onDemand.instances}`
    )
  ].join("\n"))
})
