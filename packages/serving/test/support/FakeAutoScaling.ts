/**
 * A loopback AWS for the service engine: Auto Scaling (query protocol, 2011-01-01), CloudWatch (awsJson1_0 as the
 * SDK of this repository speaks it, `GraniteServiceVersion20100801.<Operation>`) and the EC2 DescribeInstances the
 * status reads, from one mutable account. A group realises its desired capacity as instances at once: the first
 * OnDemandBaseCapacity on-demand, the rest spot when OnDemandPercentageAboveBaseCapacity is 0, round-robin over the
 * zones of its subnets; deleting a group deletes its policies, as Auto Scaling does.
 */
import { ec2QueryHandler, isEc2Query } from "../../../../test/support/aws/Ec2Query.ts"
import {
  awsQueryHandler,
  decodeQuery,
  list,
  type QueryStructure,
  queryError,
  struct,
  text
} from "../../../../test/support/aws/AwsQuery.ts"
import { type LoopbackRequest, type LoopbackResponse, type LoopbackServer, startLoopbackServer } from "../../../../test/support/aws/LoopbackServer.ts"

const AUTO_SCALING = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

export interface FakeInstance {
  readonly id: string
  readonly zoneName: string
  readonly zoneId: string
  readonly type: string
  readonly market: "spot" | "on-demand"
  lifecycle: "InService" | "Pending"
}

export interface FakeGroup {
  readonly name: string
  params: QueryStructure
  min: number
  max: number
  desired: number
  instances: Array<FakeInstance>
}

export interface FakeAccount {
  readonly groups: Map<string, FakeGroup>
  /** `group/policy` → the PutScalingPolicy parameters. */
  readonly policies: Map<string, QueryStructure>
  readonly alarms: Map<string, Record<string, unknown>>
  /** Every call, in order: `AutoScaling:CreateAutoScalingGroup`, `CloudWatch:PutMetricAlarm`, … */
  readonly calls: Array<string>
  /** Subnet id → its zone (name and ID). */
  readonly subnets: ReadonlyMap<string, { readonly name: string; readonly id: string }>
  /** Fail the next N calls of an operation with Throttling (e.g. `{ PutScalingPolicy: 1 }`). */
  readonly throttle: Record<string, number>
}

let instanceCounter = 0

const realise = (account: FakeAccount, group: FakeGroup): void => {
  const distribution = struct(struct(group.params["MixedInstancesPolicy"])["InstancesDistribution"])
  const base = Number(text(distribution["OnDemandBaseCapacity"]) ?? "0")
  const percentage = Number(text(distribution["OnDemandPercentageAboveBaseCapacity"]) ?? "100")
  const types = list(struct(struct(group.params["MixedInstancesPolicy"])["LaunchTemplate"])["Overrides"]).map((o) => text(struct(o)["InstanceType"]) ?? "")
  const zones = (text(group.params["VPCZoneIdentifier"]) ?? "").split(",").flatMap((subnet) => {
    const zone = account.subnets.get(subnet)
    return zone === undefined ? [] : [zone]
  })
  group.instances = Array.from({ length: group.desired }, (_, i): FakeInstance => {
    const zone = zones[i % Math.max(1, zones.length)] ?? { name: "us-east-1a", id: "use1-az1" }
    const onDemand = i < base || (percentage === 100)
    return { id: `i-${(++instanceCounter).toString(16).padStart(17, "0")}`, zoneName: zone.name, zoneId: zone.id, type: types[0] ?? "", market: onDemand ? "on-demand" : "spot", lifecycle: "InService" }
  })
}

const groupXml = (group: FakeGroup) => ({
  AutoScalingGroupName: group.name,
  AutoScalingGroupARN: `arn:aws:autoscaling:us-east-2:123456789012:autoScalingGroup:0:autoScalingGroupName/${group.name}`,
  MixedInstancesPolicy: group.params["MixedInstancesPolicy"],
  MinSize: group.min,
  MaxSize: group.max,
  DesiredCapacity: group.desired,
  DefaultCooldown: 300,
  AvailabilityZones: [...new Set(group.instances.map((i) => i.zoneName))],
  HealthCheckType: "EC2",
  HealthCheckGracePeriod: text(group.params["HealthCheckGracePeriod"]),
  Instances: group.instances.map((i) => ({
    InstanceId: i.id,
    InstanceType: i.type,
    AvailabilityZone: i.zoneName,
    AvailabilityZoneId: i.zoneId,
    LifecycleState: i.lifecycle,
    HealthStatus: "Healthy",
    ProtectedFromScaleIn: false
  })),
  CreatedTime: new Date("2026-11-23T06:00:00Z"),
  VPCZoneIdentifier: text(group.params["VPCZoneIdentifier"]),
  CapacityRebalance: text(group.params["CapacityRebalance"]),
  DefaultInstanceWarmup: text(group.params["DefaultInstanceWarmup"])
})

const validation = (message: string) => queryError(AUTO_SCALING, "ValidationError", message)

const autoScaling = (account: FakeAccount) =>
  awsQueryHandler(AUTO_SCALING, {
    CreateAutoScalingGroup: (params) => {
      const name = text(params["AutoScalingGroupName"]) ?? ""
      if (account.groups.has(name)) return queryError(AUTO_SCALING, "AlreadyExists", `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`)
      const group: FakeGroup = {
        name,
        params,
        min: Number(text(params["MinSize"])),
        max: Number(text(params["MaxSize"])),
        desired: Number(text(params["DesiredCapacity"]) ?? text(params["MinSize"])),
        instances: []
      }
      account.groups.set(name, group)
      realise(account, group)
      return null
    },
    UpdateAutoScalingGroup: (params) => {
      const group = account.groups.get(text(params["AutoScalingGroupName"]) ?? "")
      if (group === undefined) return validation("AutoScalingGroup name not found")
      group.params = { ...group.params, ...params }
      group.min = Number(text(params["MinSize"]) ?? group.min)
      group.max = Number(text(params["MaxSize"]) ?? group.max)
      // Auto Scaling moves the desired capacity into the new bounds (an implicit SetDesiredCapacity).
      group.desired = Math.min(group.max, Math.max(group.min, group.desired))
      realise(account, group)
      return null
    },
    DescribeAutoScalingGroups: (params) => {
      const names = list(params["AutoScalingGroupNames"]).map((n) => text(n) ?? "")
      const groups = [...account.groups.values()].filter((g) => names.length === 0 || names.includes(g.name))
      return { AutoScalingGroups: groups.map(groupXml) }
    },
    DeleteAutoScalingGroup: (params) => {
      const name = text(params["AutoScalingGroupName"]) ?? ""
      if (!account.groups.delete(name)) return validation("AutoScalingGroup name not found")
      for (const key of [...account.policies.keys()]) if (key.startsWith(`${name}/`)) account.policies.delete(key)
      return null
    },
    PutScalingPolicy: (params) => {
      const group = text(params["AutoScalingGroupName"]) ?? ""
      if (!account.groups.has(group)) return validation("AutoScalingGroup name not found")
      const name = text(params["PolicyName"]) ?? ""
      account.policies.set(`${group}/${name}`, params)
      return { PolicyARN: `arn:aws:autoscaling:us-east-2:123456789012:scalingPolicy:0:autoScalingGroupName/${group}:policyName/${name}` }
    },
    DescribePolicies: (params) => {
      const group = text(params["AutoScalingGroupName"]) ?? ""
      return {
        ScalingPolicies: [...account.policies.entries()]
          .filter(([key]) => key.startsWith(`${group}/`))
          .map(([, p]) => ({ AutoScalingGroupName: group, PolicyName: text(p["PolicyName"]), PolicyType: text(p["PolicyType"]) }))
      }
    },
    DeletePolicy: (params) => {
      const key = `${text(params["AutoScalingGroupName"]) ?? ""}/${text(params["PolicyName"]) ?? ""}`
      if (!account.policies.delete(key)) return validation("Policy not found")
      return null
    }
  })

const ec2 = (account: FakeAccount) =>
  ec2QueryHandler({
    DescribeInstances: (params) => {
      const ids = new Set(params.list("InstanceId"))
      const instances = [...account.groups.values()].flatMap((g) => g.instances).filter((i) => ids.has(i.id))
      return {
        reservationSet: [{
          reservationId: "r-0loopback",
          instancesSet: instances.map((i) => ({
            instanceId: i.id,
            instanceType: i.type,
            placement: { availabilityZone: i.zoneName },
            instanceState: { code: 16, name: "running" },
            ...(i.market === "spot" ? { instanceLifecycle: "spot" } : {})
          }))
        }]
      }
    }
  })

const cloudWatchJson = (body: Record<string, unknown>): LoopbackResponse => ({
  status: 200,
  headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "loopback" },
  body: JSON.stringify(body)
})

const cloudWatch = (account: FakeAccount, operation: string, input: Record<string, unknown>): LoopbackResponse => {
  switch (operation) {
    case "PutMetricAlarm":
      account.alarms.set(String(input["AlarmName"]), input)
      return cloudWatchJson({})
    case "DescribeAlarms": {
      const prefix = String(input["AlarmNamePrefix"] ?? "")
      return cloudWatchJson({ MetricAlarms: [...account.alarms.keys()].filter((n) => n.startsWith(prefix)).map((AlarmName) => ({ AlarmName })) })
    }
    case "DeleteAlarms":
      for (const name of Array.isArray(input["AlarmNames"]) ? input["AlarmNames"] : []) account.alarms.delete(String(name))
      return cloudWatchJson({})
    default:
      return { status: 400, headers: { "content-type": "application/x-amz-json-1.0" }, body: JSON.stringify({ __type: "UnknownOperationException" }) }
  }
}

const throttled = (account: FakeAccount, operation: string, cloudWatchCall: boolean): LoopbackResponse | undefined => {
  const left = account.throttle[operation] ?? 0
  if (left <= 0) return undefined
  account.throttle[operation] = left - 1
  return cloudWatchCall
    ? { status: 400, headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": "Throttling" }, body: JSON.stringify({ __type: "Throttling", message: "Rate exceeded" }) }
    : queryError(AUTO_SCALING, "Throttling", "Rate exceeded")
}

export const startFakeAutoScaling = async (
  subnets: ReadonlyMap<string, { readonly name: string; readonly id: string }>
): Promise<{ readonly server: LoopbackServer; readonly account: FakeAccount }> => {
  const account: FakeAccount = { groups: new Map(), policies: new Map(), alarms: new Map(), calls: [], subnets, throttle: {} }
  const asHandler = autoScaling(account)
  const ec2Handler = ec2(account)
  const handler = async (request: LoopbackRequest): Promise<LoopbackResponse> => {
    const target = request.headers["x-amz-target"]
    const targetText = Array.isArray(target) ? target[0] : target
    if (targetText !== undefined) {
      const operation = targetText.split(".").pop() ?? ""
      account.calls.push(`CloudWatch:${operation}`)
      const input: unknown = request.body === "" ? {} : JSON.parse(request.body)
      return throttled(account, operation, true) ??
        cloudWatch(account, operation, typeof input === "object" && input !== null ? Object.fromEntries(Object.entries(input)) : {})
    }
    const { action, version } = decodeQuery(request.body)
    if (version === "2011-01-01") {
      account.calls.push(`AutoScaling:${action}`)
      return throttled(account, action, false) ?? asHandler(request)
    }
    if (isEc2Query(request)) {
      account.calls.push(`EC2:${action}`)
      return ec2Handler(request)
    }
    return { status: 400, headers: {}, body: "unknown protocol" }
  }
  const server = await startLoopbackServer(handler)
  return { server, account }
}
