/**
 * The EC2 Auto Scaling engine, with the real AWS SDK v3 clients against a loopback Auto Scaling + CloudWatch +
 * EC2 server in their wire formats (FakeAutoScaling): the requests field by field, then create, an unchanged
 * re-apply, an update of a changed max, status by market and zone, and a delete that leaves nothing behind.
 */
import { decodeWorkloadFile, type Workload, workloadsOf } from "@frugal/core"
import { AwsRetryPolicy } from "@frugal/pricing/aws"
import { EmbeddedCatalog, PriceCatalog } from "@frugal/pricing"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeServiceInfra, planService, type ServicePlan } from "../src/index.ts"
import {
  applyAutoScaling,
  autoScalingRequests,
  autoScalingStatus,
  deleteAutoScaling,
  ServiceAwsClients
} from "../src/aws/index.ts"
import type { LoopbackServer } from "../../../test/support/aws/LoopbackServer.ts"
import { text, list, struct } from "../../../test/support/aws/AwsQuery.ts"
import { type FakeAccount, startFakeAutoScaling } from "./support/FakeAutoScaling.ts"

const example = fileURLToPath(new URL("../../../examples/service-chat.yaml", import.meta.url))

const infraText = `
aws:
  regions:
    us-east-2:
      subnets: { use2-az1: subnet-0aaa1111, use2-az2: subnet-0bbb2222, use2-az3: subnet-0ccc3333 }
      launchTemplate: lt-0123456789abcdef0
      securityGroups: [sg-0123abcd]
slurm: [{ name: lab, partitions: [{ name: gpu, nodes: 1, hourlyPriceUsd: 1 }] }]
`

const workloadWith = (edit: (text: string) => string): Workload => {
  const file = Effect.runSync(decodeWorkloadFile(edit(readFileSync(example, "utf8")), "service-chat.yaml"))
  const [workload] = workloadsOf(file)
  if (workload === undefined) throw new Error("one workload")
  return workload
}

const planFor = (workload: Workload): ServicePlan =>
  Effect.runSync(
    Effect.gen(function*() {
      const catalog = yield* (yield* PriceCatalog).catalog()
      return yield* planService(workload, "service-chat.yaml", catalog)
    }).pipe(Effect.provide(EmbeddedCatalog.layer))
  )

let server: LoopbackServer
let account: FakeAccount
const saved: Record<string, string | undefined> = {}
const ENV = ["AWS_ENDPOINT_URL_AUTO_SCALING", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_EC2", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]

beforeAll(async () => {
  ;({ server, account } = await startFakeAutoScaling(new Map([
    ["subnet-0aaa1111", { name: "us-east-2a", id: "use2-az1" }],
    ["subnet-0bbb2222", { name: "us-east-2b", id: "use2-az2" }],
    ["subnet-0ccc3333", { name: "us-east-2c", id: "use2-az3" }]
  ])))
  for (const key of ENV) saved[key] = process.env[key]
  process.env["AWS_ENDPOINT_URL_AUTO_SCALING"] = server.url
  process.env["AWS_ENDPOINT_URL_CLOUDWATCH"] = server.url
  process.env["AWS_ENDPOINT_URL_EC2"] = server.url
  process.env["AWS_ACCESS_KEY_ID"] = "AKIDLOOPBACK"
  process.env["AWS_SECRET_ACCESS_KEY"] = "loopback"
})
afterAll(async () => {
  for (const key of ENV) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
  await server.close()
})

const run = <A, E>(effect: Effect.Effect<A, E, ServiceAwsClients>): Promise<A> =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(Layer.merge(ServiceAwsClients.layer, Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 1, maxDelayMillis: 5, retries: 3 }))),
      Effect.scoped
    )
  )

describe("Auto Scaling requests of the example service", () => {
  const plan = planFor(workloadWith((t) => t))
  const infra = Effect.runSync(decodeServiceInfra(infraText, "infra.yaml"))
  const requests = Effect.runSync(autoScalingRequests(plan, infra, "infra.yaml"))

  it("a mixed-instances group over the plan's zones: its instance types, the on-demand base, price-capacity-optimized spot, rebalancing", () => {
    expect(plan.region).toBe("us-east-2")
    const group = requests.group
    expect(group.AutoScalingGroupName).toBe("frugal-chat-8b-service")
    expect([group.MinSize, group.MaxSize]).toEqual([2, 40])
    expect(group.VPCZoneIdentifier).toBe(plan.zones.map((z) => ({ "use2-az1": "subnet-0aaa1111", "use2-az2": "subnet-0bbb2222", "use2-az3": "subnet-0ccc3333" })[z.zone]).join(","))
    expect(group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification).toEqual({ LaunchTemplateId: "lt-0123456789abcdef0", Version: "$Default" })
    expect(group.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType)).toEqual(plan.replica.instanceTypes)
    expect(plan.replica.instanceTypes[0]).toBe(plan.replica.instanceType)
    expect(group.MixedInstancesPolicy?.InstancesDistribution).toEqual({
      OnDemandAllocationStrategy: "lowest-price",
      OnDemandBaseCapacity: Math.max(1, plan.placements.atTarget.onDemand),
      OnDemandPercentageAboveBaseCapacity: 0,
      SpotAllocationStrategy: "price-capacity-optimized"
    })
    expect(group.CapacityRebalance).toBe(true)
    expect(group.DefaultInstanceWarmup).toBe(300)
  })

  it("target tracking on the custom in-flight metric per instance, scale-in disabled there", () => {
    expect(requests.targetTracking).toEqual([{
      AutoScalingGroupName: "frugal-chat-8b-service",
      PolicyName: "frugal-chat-8b-service-RequestsInFlight",
      PolicyType: "TargetTrackingScaling",
      EstimatedInstanceWarmup: 300,
      TargetTrackingConfiguration: {
        CustomizedMetricSpecification: {
          MetricName: "RequestsInFlight",
          Namespace: "Frugal/Serving",
          Dimensions: [{ Name: "AutoScalingGroupName", Value: "frugal-chat-8b-service" }],
          Statistic: "Average"
        },
        TargetValue: 8,
        DisableScaleIn: true
      }
    }])
  })

  it("scale-in: one instance per 600 s cooldown, when GPUs stayed under 30% and load under target for 15 minutes", () => {
    expect(requests.scaleIn).toMatchObject({ PolicyType: "SimpleScaling", AdjustmentType: "ChangeInCapacity", ScalingAdjustment: -1, Cooldown: 600 })
    expect(requests.alarm).toMatchObject({ EvaluationPeriods: 15, DatapointsToAlarm: 15, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" })
    const expression = requests.alarm.Metrics?.find((m) => m.Id === "idle")?.Expression
    expect(expression).toBe("IF(gpu < 30 AND load0 < 8, 1, 0)")
    expect(requests.alarm.Metrics?.find((m) => m.Id === "gpu")?.MetricStat?.Metric).toEqual({
      Namespace: "CWAgent",
      MetricName: "nvidia_smi_utilization_gpu",
      Dimensions: [{ Name: "AutoScalingGroupName", Value: "frugal-chat-8b-service" }]
    })
  })

  it("names the profile field when it cannot realise the plan: no launch template, too few subnets", () => {
    const bad = Effect.runSync(decodeServiceInfra("aws:\n  regions:\n    us-east-2:\n      subnets: { use2-az1: subnet-0aaa1111 }\n      image: ami-0123abcd\n", "infra.yaml"))
    const result = Effect.runSync(Effect.result(autoScalingRequests(plan, bad, "infra.yaml")))
    if (result._tag === "Success") throw new Error("expected a failure")
    expect(result.failure.issues.map((i) => i.path)).toEqual(["aws.regions.us-east-2.subnets", "aws.regions.us-east-2.launchTemplate"])
  })
})

describe("applying the example service to a loopback Auto Scaling", () => {
  const infra = Effect.runSync(decodeServiceInfra(infraText, "infra.yaml"))
  const requestsFor = (workload: Workload) => Effect.runSync(autoScalingRequests(planFor(workload), infra, "infra.yaml"))

  it("creates the group, its policies and the scale-in alarm; the group on the wire is the plan's", async () => {
    const requests = requestsFor(workloadWith((t) => t))
    account.throttle["PutScalingPolicy"] = 1
    const outcome = await run(applyAutoScaling(requests))
    expect(outcome).toMatchObject({ group: "created", groupName: "frugal-chat-8b-service", deletedPolicies: [] })
    const group = account.groups.get("frugal-chat-8b-service")
    const distribution = struct(struct(group?.params["MixedInstancesPolicy"])["InstancesDistribution"])
    expect(text(distribution["SpotAllocationStrategy"])).toBe("price-capacity-optimized")
    expect(list(struct(struct(group?.params["MixedInstancesPolicy"])["LaunchTemplate"])["Overrides"]).length).toBe(requests.group.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.length)
    expect(text(group?.params["CapacityRebalance"])).toBe("true")
    expect([...account.policies.keys()].sort()).toEqual(["frugal-chat-8b-service/frugal-chat-8b-service-RequestsInFlight", "frugal-chat-8b-service/frugal-chat-8b-service-scale-in"])
    const alarm = account.alarms.get("frugal-chat-8b-service-scale-in")
    expect(alarm?.["AlarmActions"]).toEqual(["arn:aws:autoscaling:us-east-2:123456789012:scalingPolicy:0:autoScalingGroupName/frugal-chat-8b-service:policyName/frugal-chat-8b-service-scale-in"])
    // The throttled PutScalingPolicy was retried.
    expect(account.calls.filter((c) => c === "AutoScaling:PutScalingPolicy").length).toBe(3)
  })

  it("re-applying the same plan changes nothing", async () => {
    const before = account.calls.length
    const outcome = await run(applyAutoScaling(requestsFor(workloadWith((t) => t))))
    expect(outcome.group).toBe("unchanged")
    expect(account.calls.slice(before).filter((c) => c.includes("Update") || c.includes("Create"))).toEqual([])
  })

  it("updates a changed max (and drops a target the service no longer has)", async () => {
    const withTwoTargets = workloadWith((t) => t.replace("requestsInFlightPerReplica: 8 }", "requestsInFlightPerReplica: 8, queueDepthPerReplica: 4 }"))
    await run(applyAutoScaling(requestsFor(withTwoTargets)))
    expect(account.policies.has("frugal-chat-8b-service/frugal-chat-8b-service-QueueDepth")).toBe(true)
    const smaller = workloadWith((t) => t.replace("max: 40", "max: 12"))
    const outcome = await run(applyAutoScaling(requestsFor(smaller)))
    expect(outcome.group).toBe("updated")
    expect(outcome.changed).toEqual(["MaxSize"])
    expect(outcome.deletedPolicies).toEqual(["frugal-chat-8b-service-QueueDepth"])
    expect(account.groups.get("frugal-chat-8b-service")?.max).toBe(12)
  })

  it("reads back desired and ready replicas by market and zone", async () => {
    const group = account.groups.get("frugal-chat-8b-service")
    if (group === undefined) throw new Error("created above")
    const last = group.instances.at(-1)
    if (last !== undefined) last.lifecycle = "Pending"
    const status = await run(autoScalingStatus("us-east-2", "frugal-chat-8b-service"))
    const onDemand = group.instances.filter((i) => i.market === "on-demand").length
    expect(status).toMatchObject({ exists: true, desired: group.desired, min: 2, max: 12, ready: group.desired - 1 })
    expect(status.byMarket.onDemand.instances).toBe(onDemand)
    expect(status.byMarket.spot.instances).toBe(group.desired - onDemand)
    const zoneTotal = Object.values(status.byZone).reduce((n, z) => n + z.spot.instances + z.onDemand.instances, 0)
    expect(zoneTotal).toBe(group.desired)
    expect(Object.keys(status.byZone).every((zone) => /^use2-az[123]$/.test(zone))).toBe(true)
  })

  it("deletes the service and leaves nothing behind: no group, no policy, no alarm", async () => {
    const outcome = await run(deleteAutoScaling("us-east-2", "frugal-chat-8b-service"))
    expect(outcome).toEqual({ region: "us-east-2", groupName: "frugal-chat-8b-service", groupDeleted: true, alarmsDeleted: ["frugal-chat-8b-service-scale-in"] })
    expect(account.groups.size).toBe(0)
    expect(account.policies.size).toBe(0)
    expect(account.alarms.size).toBe(0)
    const status = await run(autoScalingStatus("us-east-2", "frugal-chat-8b-service"))
    expect(status.exists).toBe(false)
  })
})
