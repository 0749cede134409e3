/**
 * The EC2 Auto Scaling engine for services: applies a plan's requests (create the group or update what changed,
 * put the scaling policies and the scale-in alarm, delete policies of ours the plan no longer has), deletes a
 * service without leaving anything behind (alarm, policies, group), and reads back desired and ready replicas by
 * market and zone. Real AWS SDK v3 clients, configured the standard way (credential chain, `AWS_REGION`,
 * `AWS_ENDPOINT_URL_AUTO_SCALING` / `_CLOUDWATCH` / `_EC2`), one per region, destroyed with the layer; every call
 * through `awsCall` (retries with backoff, abort signal, failures named).
 */
import {
  type AutoScalingGroup,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DeletePolicyCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  UpdateAutoScalingGroupCommand
} from "@aws-sdk/client-auto-scaling"
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch"
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2"
import type { RemoteServiceFailure } from "@frugal/core"
import { awsCall, type AwsCallFailed, awsClientOptions, AwsTimeouts, toRemoteServiceFailure } from "@frugal/pricing/aws"
import { Context, Effect, Layer } from "effect"
import type { AutoScalingRequests } from "./AutoScalingRequests.ts"

export class ServiceAwsClients extends Context.Service<ServiceAwsClients, {
  readonly autoScaling: (region: string) => AutoScalingClient
  readonly cloudWatch: (region: string) => CloudWatchClient
  readonly ec2: (region: string) => EC2Client
}>()("@frugal/serving/aws/ServiceAwsClients") {
  static readonly layer = Layer.effect(
    ServiceAwsClients,
    Effect.gen(function*() {
      const autoScaling = new Map<string, AutoScalingClient>()
      const cloudWatch = new Map<string, CloudWatchClient>()
      const ec2 = new Map<string, EC2Client>()
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const map of [autoScaling, cloudWatch, ec2]) {
            for (const client of map.values()) client.destroy()
            map.clear()
          }
        })
      )
      const cached = <C>(map: Map<string, C>, region: string, make: () => C): C => {
        const existing = map.get(region)
        if (existing !== undefined) return existing
        const client = make()
        map.set(region, client)
        return client
      }
      // The SDK's own retries are off: awsCall retries, so throttling and 5xx share one backoff and one error; the
      // connection and each request time out (AwsTimeouts).
      const options = awsClientOptions(yield* AwsTimeouts)
      return ServiceAwsClients.of({
        autoScaling: (region) => cached(autoScaling, region, () => new AutoScalingClient({ region, ...options })),
        cloudWatch: (region) => cached(cloudWatch, region, () => new CloudWatchClient({ region, ...options })),
        ec2: (region) => cached(ec2, region, () => new EC2Client({ region, ...options }))
      })
    })
  )
}

const failed = (error: AwsCallFailed): RemoteServiceFailure => toRemoteServiceFailure(error)

export interface ApplyOutcome {
  readonly region: string
  readonly groupName: string
  readonly group: "created" | "updated" | "unchanged"
  /** Fields of the group that changed (update only). */
  readonly changed: ReadonlyArray<string>
  readonly policies: ReadonlyArray<string>
  readonly deletedPolicies: ReadonlyArray<string>
  readonly alarms: ReadonlyArray<string>
}

const sortedCsv = (text: string | undefined): string => (text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "").sort().join(",")

/** Which of the fields apply manages differ between the group as it is and as requested. */
export const changedFields = (current: AutoScalingGroup, wanted: AutoScalingRequests["group"]): ReadonlyArray<string> => {
  const changed: Array<string> = []
  const currentTypes = (current.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType ?? "").join(",")
  const wantedTypes = (wanted.MixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType ?? "").join(",")
  const distribution = (group: { readonly MixedInstancesPolicy?: AutoScalingGroup["MixedInstancesPolicy"] }) =>
    JSON.stringify(group.MixedInstancesPolicy?.InstancesDistribution ?? {}, Object.keys(wanted.MixedInstancesPolicy?.InstancesDistribution ?? {}).sort())
  if (current.MinSize !== wanted.MinSize) changed.push("MinSize")
  if (current.MaxSize !== wanted.MaxSize) changed.push("MaxSize")
  if (sortedCsv(current.VPCZoneIdentifier) !== sortedCsv(wanted.VPCZoneIdentifier)) changed.push("VPCZoneIdentifier")
  if (currentTypes !== wantedTypes) changed.push("MixedInstancesPolicy.LaunchTemplate.Overrides")
  if (distribution(current) !== distribution(wanted)) changed.push("MixedInstancesPolicy.InstancesDistribution")
  if ((current.CapacityRebalance ?? false) !== (wanted.CapacityRebalance ?? false)) changed.push("CapacityRebalance")
  if (current.DefaultInstanceWarmup !== wanted.DefaultInstanceWarmup) changed.push("DefaultInstanceWarmup")
  return changed
}

const describeGroup = Effect.fn("AutoScalingEngine.describeGroup")(function*(region: string, name: string) {
  const { autoScaling } = yield* ServiceAwsClients
  const answer = yield* awsCall(
    { service: "AutoScaling", operation: "DescribeAutoScalingGroups", region },
    (abortSignal) => autoScaling(region).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), { abortSignal })
  )
  return answer.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name) ?? null
})

export const applyAutoScaling = Effect.fn("AutoScalingEngine.apply")(function*(
  requests: AutoScalingRequests
): Effect.fn.Return<ApplyOutcome, RemoteServiceFailure, ServiceAwsClients> {
  const { autoScaling, cloudWatch } = yield* ServiceAwsClients
  const { region } = requests
  const name = requests.group.AutoScalingGroupName ?? ""
  const asCall = <A>(operation: string, send: (signal: AbortSignal) => Promise<A>) =>
    awsCall({ service: "AutoScaling", operation, region }, send).pipe(Effect.mapError(failed))
  const current = yield* describeGroup(region, name).pipe(Effect.mapError(failed))
  let group: ApplyOutcome["group"] = "unchanged"
  let changed: ReadonlyArray<string> = []
  if (current === null) {
    yield* asCall("CreateAutoScalingGroup", (abortSignal) => autoScaling(region).send(new CreateAutoScalingGroupCommand(requests.group), { abortSignal }))
    group = "created"
  } else {
    changed = changedFields(current, requests.group)
    if (changed.length > 0) {
      const { Tags: _tags, DesiredCapacity: _desired, ...update } = requests.group
      yield* asCall("UpdateAutoScalingGroup", (abortSignal) => autoScaling(region).send(new UpdateAutoScalingGroupCommand(update), { abortSignal }))
      group = "updated"
    }
  }
  const policies = [...requests.targetTracking, requests.scaleIn]
  let scaleInArn = ""
  for (const policy of policies) {
    const answer = yield* asCall("PutScalingPolicy", (abortSignal) => autoScaling(region).send(new PutScalingPolicyCommand(policy), { abortSignal }))
    if (policy.PolicyName === requests.scaleIn.PolicyName) scaleInArn = answer.PolicyARN ?? ""
  }
  const existing = yield* asCall("DescribePolicies", (abortSignal) =>
    autoScaling(region).send(new DescribePoliciesCommand({ AutoScalingGroupName: name }), { abortSignal }))
  const wanted = new Set(policies.map((p) => p.PolicyName))
  const stale = (existing.ScalingPolicies ?? []).flatMap((p) =>
    p.PolicyName !== undefined && p.PolicyName.startsWith(`${name}-`) && !wanted.has(p.PolicyName) ? [p.PolicyName] : []
  )
  for (const policyName of stale) {
    yield* asCall("DeletePolicy", (abortSignal) =>
      autoScaling(region).send(new DeletePolicyCommand({ AutoScalingGroupName: name, PolicyName: policyName }), { abortSignal }))
  }
  yield* awsCall(
    { service: "CloudWatch", operation: "PutMetricAlarm", region },
    (abortSignal) => cloudWatch(region).send(new PutMetricAlarmCommand({ ...requests.alarm, AlarmActions: [scaleInArn] }), { abortSignal })
  ).pipe(Effect.mapError(failed))
  return {
    region,
    groupName: name,
    group,
    changed,
    policies: policies.flatMap((p) => (p.PolicyName === undefined ? [] : [p.PolicyName])),
    deletedPolicies: stale,
    alarms: requests.alarm.AlarmName === undefined ? [] : [requests.alarm.AlarmName]
  }
})

export interface DeleteOutcome {
  readonly region: string
  readonly groupName: string
  readonly groupDeleted: boolean
  readonly alarmsDeleted: ReadonlyArray<string>
}

/** Deletes the service's alarms (every alarm named after the group), then the group with its instances and policies. */
export const deleteAutoScaling = Effect.fn("AutoScalingEngine.delete")(function*(
  region: string,
  name: string
): Effect.fn.Return<DeleteOutcome, RemoteServiceFailure, ServiceAwsClients> {
  const { autoScaling, cloudWatch } = yield* ServiceAwsClients
  const alarms = yield* awsCall(
    { service: "CloudWatch", operation: "DescribeAlarms", region },
    (abortSignal) => cloudWatch(region).send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${name}-` }), { abortSignal })
  ).pipe(Effect.mapError(failed))
  const alarmNames = (alarms.MetricAlarms ?? []).flatMap((a) => (a.AlarmName === undefined ? [] : [a.AlarmName]))
  if (alarmNames.length > 0) {
    yield* awsCall(
      { service: "CloudWatch", operation: "DeleteAlarms", region },
      (abortSignal) => cloudWatch(region).send(new DeleteAlarmsCommand({ AlarmNames: alarmNames }), { abortSignal })
    ).pipe(Effect.mapError(failed))
  }
  const current = yield* describeGroup(region, name).pipe(Effect.mapError(failed))
  if (current !== null) {
    yield* awsCall(
      { service: "AutoScaling", operation: "DeleteAutoScalingGroup", region },
      (abortSignal) => autoScaling(region).send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }), { abortSignal })
    ).pipe(Effect.mapError(failed))
  }
  return { region, groupName: name, groupDeleted: current !== null, alarmsDeleted: alarmNames }
})

export interface MarketCounts {
  readonly instances: number
  readonly ready: number
}

export interface ServiceStatus {
  readonly region: string
  readonly groupName: string
  readonly exists: boolean
  readonly desired: number
  readonly min: number
  readonly max: number
  readonly ready: number
  readonly byMarket: { readonly spot: MarketCounts; readonly onDemand: MarketCounts }
  /** By AZ ID where Auto Scaling reports it, else zone name. */
  readonly byZone: Readonly<Record<string, { readonly spot: MarketCounts; readonly onDemand: MarketCounts }>>
}

/** Desired and ready replicas by market and zone: the group's instances, their market from EC2. */
export const autoScalingStatus = Effect.fn("AutoScalingEngine.status")(function*(
  region: string,
  name: string
): Effect.fn.Return<ServiceStatus, RemoteServiceFailure, ServiceAwsClients> {
  const { ec2 } = yield* ServiceAwsClients
  const group = yield* describeGroup(region, name).pipe(Effect.mapError(failed))
  const empty = { instances: 0, ready: 0 }
  if (group === null) {
    return { region, groupName: name, exists: false, desired: 0, min: 0, max: 0, ready: 0, byMarket: { spot: empty, onDemand: empty }, byZone: {} }
  }
  const instances = group.Instances ?? []
  const ids = instances.flatMap((i) => (i.InstanceId === undefined ? [] : [i.InstanceId]))
  const spot = new Set<string>()
  if (ids.length > 0) {
    const described = yield* awsCall(
      { service: "EC2", operation: "DescribeInstances", region },
      (abortSignal) => ec2(region).send(new DescribeInstancesCommand({ InstanceIds: ids }), { abortSignal })
    ).pipe(Effect.mapError(failed))
    for (const reservation of described.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (instance.InstanceLifecycle === "spot" && instance.InstanceId !== undefined) spot.add(instance.InstanceId)
      }
    }
  }
  const count = { spot: { instances: 0, ready: 0 }, onDemand: { instances: 0, ready: 0 } }
  const byZone: Record<string, { spot: { instances: number; ready: number }; onDemand: { instances: number; ready: number } }> = {}
  let ready = 0
  for (const instance of instances) {
    const market = spot.has(instance.InstanceId ?? "") ? "spot" : "onDemand"
    const zone = instance.AvailabilityZoneId ?? instance.AvailabilityZone ?? "unknown"
    const serving = instance.LifecycleState === "InService" && instance.HealthStatus === "Healthy"
    const slot = (byZone[zone] ??= { spot: { instances: 0, ready: 0 }, onDemand: { instances: 0, ready: 0 } })
    slot[market].instances++
    count[market].instances++
    if (serving) {
      slot[market].ready++
      count[market].ready++
      ready++
    }
  }
  return {
    region,
    groupName: name,
    exists: true,
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    ready,
    byMarket: count,
    byZone
  }
})
