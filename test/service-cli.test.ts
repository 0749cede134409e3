/**
 * `frugal service plan|simulate|apply|status` through the real `frugal` process: the JSON contracts, both engines'
 * --dry-run checked field by field, and apply/status/delete against a loopback Auto Scaling + CloudWatch + EC2
 * server (the real SDK clients, pointed at it with AWS_ENDPOINT_URL_*), leaving nothing behind.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeAccount, startFakeAutoScaling } from "../packages/serving/test/support/FakeAutoScaling.ts"
import type { LoopbackServer } from "./support/aws/LoopbackServer.ts"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

const service = example("service-chat.yaml")
const infra = example("service/infra.yaml")
const conv = "packages/serving/data/request-traces/AzureLLMInferenceTrace_conv.csv"
const zones = "packages/planner/data/spot-traces/availability/1-node/aws-02-15-2023"
const dir = mkdtempSync(join(tmpdir(), "frugal-service-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ok = async (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) => {
  const run = await runFrugal(args, { env })
  expect(run.stderr).not.toMatch(STACK_FRAME)
  expect(run.code, run.stderr).toBe(0)
  return run.stdout
}

describe.concurrent("frugal service plan and simulate", () => {
  it("plan --json: the replica, its zones, the on-demand base and spot at the sustained load", async () => {
    const plan = JSON.parse(await ok(["service", "plan", service, "--json"]))
    expect(plan.workload).toBe("chat-8b-service")
    expect(plan.region).toBe("us-east-2")
    expect(plan.replica.instanceTypes[0]).toBe(plan.replica.instanceType)
    expect(plan.zones.length).toBeGreaterThanOrEqual(2)
    const atTarget = plan.placements.atTarget
    expect(atTarget.onDemand).toBeGreaterThanOrEqual(1)
    expect(atTarget.replicas - atTarget.onDemand).toBeGreaterThan(0)
    expect(Object.keys(atTarget.spotByZone).length).toBeGreaterThanOrEqual(2)
    expect(atTarget.monthlyCostUsd).toBeLessThan(plan.onDemandMonthlyCostUsd)
  })

  it("simulate --json prints { settings, policies: { <name>: the contract's fields } } for the policies asked", async () => {
    const report = JSON.parse(await ok([
      "service", "simulate", service, "--requests", conv, "--spot-traces", zones, "--days", "1", "--policies", "frugal,spothedge", "--json"
    ]))
    expect(Object.keys(report.policies)).toEqual(["frugal", "spothedge"])
    for (const summary of Object.values<Record<string, number>>(report.policies)) {
      expect(Object.keys(summary).sort()).toEqual([
        "availability", "costUsd", "costVsOnDemand", "meanReplicas", "onDemandReplicaHours", "overloadedRequestsPct", "preemptions", "spotReplicaHours"
      ])
    }
    expect(report.settings.spotTraces.zones).toHaveLength(9)
    expect(report.settings.requests.mix.fromTrace).toBe(true)
    expect(report.settings.minutes).toBe(1440)
    expect(report.policies.frugal.costVsOnDemand).toBeLessThan(1)
  })

  it("reads per-minute counts too", async () => {
    const counts = join(dir, "counts.csv")
    writeFileSync(counts, `minute,requests\n${Array.from({ length: 60 }, (_, m) => `${m},${100 + (m % 7) * 10}`).join("\n")}\n`)
    const report = JSON.parse(await ok(["service", "simulate", service, "--requests", counts, "--spot-traces", zones, "--days", "1", "--policies", "frugal", "--json"]))
    expect(report.settings.requests.format).toBe("counts")
    expect(report.settings.requests.mix.fromTrace).toBe(false)
  })
})

describe.concurrent("frugal service apply --dry-run", () => {
  it("ec2-asg prints the Auto Scaling group, its policies and the alarm", async () => {
    const requests = JSON.parse(await ok(["service", "apply", service, "--engine", "ec2-asg", "--infra", infra, "--dry-run"]))
    expect(requests.region).toBe("us-east-2")
    expect(requests.group.AutoScalingGroupName).toBe("frugal-chat-8b-service")
    expect([requests.group.MinSize, requests.group.MaxSize]).toEqual([2, 40])
    expect(requests.group.MixedInstancesPolicy.InstancesDistribution.SpotAllocationStrategy).toBe("price-capacity-optimized")
    expect(requests.group.MixedInstancesPolicy.InstancesDistribution.OnDemandPercentageAboveBaseCapacity).toBe(0)
    expect(requests.group.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId).toBe("lt-0123456789abcdef0")
    expect(requests.group.VPCZoneIdentifier.split(",").sort()).toEqual(["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"])
    expect(requests.group.CapacityRebalance).toBe(true)
    expect(requests.targetTracking[0].TargetTrackingConfiguration.CustomizedMetricSpecification.MetricName).toBe("RequestsInFlight")
    expect(requests.targetTracking[0].TargetTrackingConfiguration.TargetValue).toBe(8)
    expect(requests.scaleIn.Cooldown).toBe(600)
    expect(requests.alarm.EvaluationPeriods).toBe(15)
  })

  it("kubernetes prints NodePools, Deployments, Service, ScaledObject and PodDisruptionBudget in the profile's namespace", async () => {
    const objects: ReadonlyArray<{ kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> }> =
      JSON.parse(await ok(["service", "apply", service, "--engine", "kubernetes", "--infra", infra, "--dry-run", "--json"]))
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "NodePool/chat-8b-service-on-demand",
      "NodePool/chat-8b-service-spot",
      "Deployment/chat-8b-service-base",
      "Deployment/chat-8b-service",
      "Service/chat-8b-service",
      "ScaledObject/chat-8b-service",
      "PodDisruptionBudget/chat-8b-service"
    ])
    expect(objects.filter((o) => o.kind !== "NodePool").every((o) => o.metadata.namespace === "ml")).toBe(true)
    const scaled = objects.find((o) => o.kind === "ScaledObject")
    expect([scaled?.spec["minReplicaCount"], scaled?.spec["maxReplicaCount"]]).toEqual([1, 39])
    // Without --json: the same objects as YAML documents for kubectl apply -f -.
    const yaml = await ok(["service", "apply", service, "--engine", "kubernetes", "--infra", infra, "--dry-run"])
    expect(yaml.split(/^---$/m)).toHaveLength(7)
    expect(yaml).toContain("kind: ScaledObject")
    expect(yaml).not.toContain("*a1")
  })

  it("kubernetes without --dry-run says what it does not do yet, with exit 2", async () => {
    const run = await runFrugal(["service", "apply", service, "--engine", "kubernetes", "--infra", infra])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--dry-run")
  })
})

describe("frugal service apply, status and delete against a loopback Auto Scaling", () => {
  let server: LoopbackServer
  let account: FakeAccount
  let env: Record<string, string>
  beforeAll(async () => {
    ;({ server, account } = await startFakeAutoScaling(new Map([
      ["subnet-0aaa1111", { name: "us-east-2a", id: "use2-az1" }],
      ["subnet-0bbb2222", { name: "us-east-2b", id: "use2-az2" }],
      ["subnet-0ccc3333", { name: "us-east-2c", id: "use2-az3" }]
    ])))
    env = {
      AWS_ENDPOINT_URL_AUTO_SCALING: server.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: server.url,
      AWS_ENDPOINT_URL_EC2: server.url,
      AWS_ACCESS_KEY_ID: "AKIDLOOPBACK",
      AWS_SECRET_ACCESS_KEY: "loopback",
      AWS_REGION: "us-east-2"
    }
  })
  afterAll(() => server.close())

  it("creates, leaves an unchanged service alone, updates a changed max, reports status and deletes everything", async () => {
    const apply = (file: string) => ok(["service", "apply", file, "--engine", "ec2-asg", "--infra", infra, "--json"], env)
    expect(JSON.parse(await apply(service)).group).toBe("created")
    expect(account.groups.get("frugal-chat-8b-service")?.max).toBe(40)
    expect(JSON.parse(await apply(service)).group).toBe("unchanged")

    const smaller = join(dir, "smaller.yaml")
    writeFileSync(smaller, (await import("node:fs")).readFileSync(service, "utf8").replace("max: 40", "max: 16"))
    const updated = JSON.parse(await apply(smaller))
    expect(updated).toMatchObject({ group: "updated", changed: ["MaxSize"] })
    expect(account.groups.get("frugal-chat-8b-service")?.max).toBe(16)

    const status = JSON.parse(await ok(["service", "status", smaller, "--engine", "ec2-asg", "--infra", infra, "--json"], env))
    const group = account.groups.get("frugal-chat-8b-service")
    expect(status.desired).toBe(group?.desired)
    expect(status.byMarket.onDemand.instances + status.byMarket.spot.instances).toBe(group?.desired)
    expect(status.byMarket.onDemand.instances).toBeGreaterThanOrEqual(1)

    const deleted = JSON.parse(await ok(["service", "apply", smaller, "--engine", "ec2-asg", "--infra", infra, "--delete", "--json"], env))
    expect(deleted.groupDeleted).toBe(true)
    expect([account.groups.size, account.policies.size, account.alarms.size]).toEqual([0, 0, 0])
  })
})
