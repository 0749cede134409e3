/**
 * `frugal service apply`: EC2 Auto Scaling (create/update, or `--delete`; `--dry-run` prints the requests) or
 * Kubernetes (`--dry-run` prints the objects for `kubectl apply -f -`). The AWS SDK is loaded only for ec2-asg.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { stringify } from "yaml"
import { InvalidInput } from "@frugal/core"
import { defaultServiceKubernetesSettings, manifestList, serviceManifests } from "@frugal/serving"
import { type EngineInput, infraSource, planOnInfra } from "./Engines.ts"
import { readServiceWorkload } from "./Inputs.ts"

interface Input extends EngineInput {
  readonly engine: "ec2-asg" | "kubernetes"
  readonly dryRun: boolean
  readonly delete: boolean
  readonly json: boolean
}

const kubernetes = Effect.fnUntraced(function*(input: Input) {
  if (!input.dryRun || input.delete) {
    return yield* new InvalidInput({
      source: "--engine kubernetes",
      issues: [{ path: "--dry-run", expected: "--dry-run: the objects are printed for kubectl apply -f - (applying them through the API is not built yet)" }]
    })
  }
  const { plan, infra } = yield* planOnInfra(input)
  const cluster = infra.kubernetes?.[0]
  const workload = yield* readServiceWorkload(input.file)
  const env = process.env
  const manifests = serviceManifests(plan, {
    ...defaultServiceKubernetesSettings,
    namespace: cluster?.namespace ?? defaultServiceKubernetesSettings.namespace,
    nodeClass: cluster?.nodeClass ?? defaultServiceKubernetesSettings.nodeClass,
    image: env["FRUGAL_SERVE_IMAGE"] ?? defaultServiceKubernetesSettings.image,
    prometheusUrl: env["FRUGAL_PROMETHEUS_URL"] ?? defaultServiceKubernetesSettings.prometheusUrl
  }, { command: workload.run?.command, env: workload.run?.env })
  const objects = manifestList(manifests)
  yield* Console.log(input.json ? JSON.stringify(objects, null, 2) : objects.map((o) => stringify(o, { aliasDuplicateObjects: false })).join("---\n"))
})

const ec2AutoScaling = Effect.fnUntraced(function*(input: Input) {
  const { plan, infra } = yield* planOnInfra(input)
  const aws = yield* Effect.promise(() => import("@frugal/serving/aws"))
  const { AwsCallSettingsFromEnv } = yield* Effect.promise(() => import("@frugal/pricing/aws"))
  const requests = yield* aws.autoScalingRequests(plan, infra, infraSource(input.infra))
  if (input.dryRun && !input.delete) return yield* Console.log(JSON.stringify(requests, null, 2))
  const layer = Layer.merge(aws.ServiceAwsClients.layer, AwsCallSettingsFromEnv)
  if (input.delete) {
    if (input.dryRun) return yield* Console.log(`Would delete ${requests.group.AutoScalingGroupName} in ${plan.region} with its policies and alarms.`)
    const outcome = yield* aws.deleteAutoScaling(plan.region, aws.groupName(plan)).pipe(Effect.provide(layer), Effect.scoped)
    return yield* Console.log(input.json
      ? JSON.stringify(outcome, null, 2)
      : `${outcome.groupName} in ${outcome.region}: ${outcome.groupDeleted ? "deleted" : "not there"}; alarms deleted: ${outcome.alarmsDeleted.join(", ") || "none"}.`)
  }
  const outcome = yield* aws.applyAutoScaling(requests).pipe(Effect.provide(layer), Effect.scoped)
  yield* Console.log(input.json
    ? JSON.stringify(outcome, null, 2)
    : [
      `${outcome.groupName} in ${outcome.region}: ${outcome.group}${outcome.changed.length === 0 ? "" : ` (${outcome.changed.join(", ")})`}.`,
      `Policies: ${outcome.policies.join(", ")}${outcome.deletedPolicies.length === 0 ? "" : `; removed ${outcome.deletedPolicies.join(", ")}`}.`,
      `Alarms: ${outcome.alarms.join(", ")}.`
    ].join("\n"))
})

export const run = (input: Input) => (input.engine === "kubernetes" ? kubernetes(input) : ec2AutoScaling(input))

