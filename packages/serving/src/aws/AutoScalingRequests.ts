/**
 * A service plan as EC2 Auto Scaling and CloudWatch requests (pure: what `service apply --dry-run` prints and what
 * the engine sends):
 * - one Auto Scaling group `frugal-<workload>` over the subnets of the plan's zones, with a mixed instances policy:
 *   the plan's instance types (same GPU and count, so the same capacity per instance), on-demand for the first
 *   `OnDemandBaseCapacity` instances (the plan's on-demand count at the sustained load, at least `onDemandBase`)
 *   and spot above it (`price-capacity-optimized`, every type × zone a pool), capacity rebalancing (a spot instance
 *   with a rebalance recommendation is replaced before it is reclaimed), warm-up = the cold start;
 * - one target-tracking policy per target, on a custom metric the replicas publish under `Frugal/Serving` with the
 *   group as dimension (Average = per instance); scale-in disabled there: Auto Scaling takes the largest
 *   recommendation of several target-tracking policies, as the KEDA/HPA rule does;
 * - scale-in only through a simple-scaling policy (one instance, then `scaleDownDelaySeconds` of cooldown) that a
 *   CloudWatch alarm triggers when, for `scaleInWindowMinutes` minutes in a row, the GPUs' mean utilisation
 *   (`CWAgent` `nvidia_smi_utilization_gpu`) was below `scaleInBelowGpuUtilization` and every load metric below
 *   its target (metric math `IF(... AND ..., 1, 0)`).
 */
import type {
  CreateAutoScalingGroupCommandInput,
  MixedInstancesPolicy,
  PutScalingPolicyCommandInput,
  Tag
} from "@aws-sdk/client-auto-scaling"
import type { MetricDataQuery, PutMetricAlarmCommandInput } from "@aws-sdk/client-cloudwatch"
import { type InputIssue, InvalidInput } from "@frugal/core"
import { Effect } from "effect"
import type { ServiceInfra } from "../ServiceInfra.ts"
import type { ServicePlan } from "../ServicePlan.ts"

/** Namespace of the per-replica load metrics the service publishes. */
export const METRIC_NAMESPACE = "Frugal/Serving"

/** The load metric of each target, and the CloudWatch agent's GPU utilisation metric. */
export const LOAD_METRICS = {
  requestsInFlightPerReplica: "RequestsInFlight",
  requestsPerSecondPerReplica: "RequestsPerSecond",
  queueDepthPerReplica: "QueueDepth"
} as const
export const GPU_UTILIZATION = { namespace: "CWAgent", metricName: "nvidia_smi_utilization_gpu" } as const

export const groupName = (plan: ServicePlan): string => `frugal-${plan.workload}`
export const scaleInPolicyName = (plan: ServicePlan): string => `${groupName(plan)}-scale-in`
export const scaleInAlarmName = (plan: ServicePlan): string => `${groupName(plan)}-scale-in`
export const targetPolicyName = (plan: ServicePlan, metric: string): string => `${groupName(plan)}-${metric}`

export interface AutoScalingRequests {
  readonly region: string
  readonly group: CreateAutoScalingGroupCommandInput
  readonly targetTracking: ReadonlyArray<PutScalingPolicyCommandInput>
  readonly scaleIn: PutScalingPolicyCommandInput
  /** `AlarmActions` gets the scale-in policy's ARN once it exists. */
  readonly alarm: PutMetricAlarmCommandInput
}

const targetsOf = (plan: ServicePlan): ReadonlyArray<{ readonly metric: string; readonly value: number }> => {
  const { target } = plan.service
  const out: Array<{ metric: string; value: number }> = []
  if (target.requestsInFlightPerReplica !== undefined) out.push({ metric: LOAD_METRICS.requestsInFlightPerReplica, value: target.requestsInFlightPerReplica })
  if (target.requestsPerSecondPerReplica !== undefined) out.push({ metric: LOAD_METRICS.requestsPerSecondPerReplica, value: target.requestsPerSecondPerReplica })
  if (target.queueDepthPerReplica !== undefined) out.push({ metric: LOAD_METRICS.queueDepthPerReplica, value: target.queueDepthPerReplica })
  return out
}

/** The subnets of the plan's zones in the infrastructure profile, or the issue naming what is missing. */
const subnetsFor = (plan: ServicePlan, infra: ServiceInfra): { readonly subnets: ReadonlyArray<string> } | { readonly issue: InputIssue } => {
  const region = infra.aws?.regions?.[plan.region]
  const path = `aws.regions.${plan.region}`
  if (region === undefined) return { issue: { path, expected: `the plan's region ${plan.region} with its subnets and launch template` } }
  const subnets = plan.zones.flatMap((z) => {
    const subnet = region.subnets[z.zone]
    return subnet === undefined ? [] : [subnet]
  })
  if (subnets.length < plan.service.zones.min) {
    return {
      issue: {
        path: `${path}.subnets`,
        expected: `subnets in at least ${plan.service.zones.min} of the zones ${plan.zones.map((z) => z.zone).join(", ")} (service.zones.min)`,
        actual: Object.keys(region.subnets).join(", ")
      }
    }
  }
  return { subnets }
}

const tags = (plan: ServicePlan): Array<Tag> => [
  { Key: "Name", Value: groupName(plan), PropagateAtLaunch: true },
  { Key: "frugal:service", Value: plan.workload, PropagateAtLaunch: true }
]

/** The requests for a plan; fails naming the profile field when the profile cannot realise it. */
export const autoScalingRequests = (
  plan: ServicePlan,
  infra: ServiceInfra,
  source: string
): Effect.Effect<AutoScalingRequests, InvalidInput> =>
  Effect.suspend(() => {
    const region = infra.aws?.regions?.[plan.region]
    const found = subnetsFor(plan, infra)
    const issues: Array<InputIssue> = "issue" in found ? [found.issue] : []
    if (region !== undefined && region.launchTemplate === undefined) {
      issues.push({
        path: `aws.regions.${plan.region}.launchTemplate`,
        expected: "a launch template (lt-… or a name): an Auto Scaling group with mixed instance types launches from one"
      })
    }
    if (issues.length > 0 || region === undefined || region.launchTemplate === undefined || "issue" in found) {
      return Effect.fail(new InvalidInput({ source, issues }))
    }
    const name = groupName(plan)
    const { service } = plan
    const base = Math.max(service.onDemandBase, plan.placements.atTarget.onDemand)
    const template = region.launchTemplate
    const mixed: MixedInstancesPolicy = {
      LaunchTemplate: {
        LaunchTemplateSpecification: {
          ...(template.startsWith("lt-") ? { LaunchTemplateId: template } : { LaunchTemplateName: template }),
          Version: region.launchTemplateVersion ?? "$Default"
        },
        Overrides: plan.replica.instanceTypes.map((type) => ({ InstanceType: type }))
      },
      InstancesDistribution: {
        OnDemandAllocationStrategy: "lowest-price",
        OnDemandBaseCapacity: Math.min(base, service.replicas.max),
        OnDemandPercentageAboveBaseCapacity: service.spot ? 0 : 100,
        SpotAllocationStrategy: "price-capacity-optimized"
      }
    }
    const group: CreateAutoScalingGroupCommandInput = {
      AutoScalingGroupName: name,
      MinSize: service.replicas.min,
      MaxSize: service.replicas.max,
      DesiredCapacity: Math.min(service.replicas.max, Math.max(service.replicas.min, plan.placements.atTarget.replicas)),
      MixedInstancesPolicy: mixed,
      VPCZoneIdentifier: found.subnets.join(","),
      CapacityRebalance: service.spot,
      DefaultInstanceWarmup: service.coldStartSeconds,
      HealthCheckGracePeriod: service.coldStartSeconds,
      NewInstancesProtectedFromScaleIn: false,
      Tags: tags(plan)
    }
    const dimension = [{ Name: "AutoScalingGroupName", Value: name }]
    const targetTracking = targetsOf(plan).map(({ metric, value }): PutScalingPolicyCommandInput => ({
      AutoScalingGroupName: name,
      PolicyName: targetPolicyName(plan, metric),
      PolicyType: "TargetTrackingScaling",
      EstimatedInstanceWarmup: service.coldStartSeconds,
      TargetTrackingConfiguration: {
        CustomizedMetricSpecification: { MetricName: metric, Namespace: METRIC_NAMESPACE, Dimensions: dimension, Statistic: "Average" },
        TargetValue: value,
        DisableScaleIn: true
      }
    }))
    const scaleIn: PutScalingPolicyCommandInput = {
      AutoScalingGroupName: name,
      PolicyName: scaleInPolicyName(plan),
      PolicyType: "SimpleScaling",
      AdjustmentType: "ChangeInCapacity",
      ScalingAdjustment: -1,
      Cooldown: service.scaleDownDelaySeconds
    }
    const stat = (id: string, namespace: string, metricName: string): MetricDataQuery => ({
      Id: id,
      MetricStat: { Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimension }, Period: 60, Stat: "Average" },
      ReturnData: false
    })
    const loads = targetsOf(plan).map(({ metric, value }, i) => ({ query: stat(`load${i}`, METRIC_NAMESPACE, metric), value }))
    const conditions = [
      `gpu < ${service.scaleInBelowGpuUtilization * 100}`,
      ...loads.map(({ query, value }) => `${query.Id} < ${value}`)
    ].join(" AND ")
    const alarm: PutMetricAlarmCommandInput = {
      AlarmName: scaleInAlarmName(plan),
      AlarmDescription: `Scale ${name} in: GPUs below ${service.scaleInBelowGpuUtilization * 100}% and load below target for ${service.scaleInWindowMinutes} min (frugal service apply)`,
      ActionsEnabled: true,
      Metrics: [
        stat("gpu", GPU_UTILIZATION.namespace, GPU_UTILIZATION.metricName),
        ...loads.map(({ query }) => query),
        { Id: "idle", Expression: `IF(${conditions}, 1, 0)`, Label: "idle", ReturnData: true }
      ],
      EvaluationPeriods: service.scaleInWindowMinutes,
      DatapointsToAlarm: service.scaleInWindowMinutes,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      Tags: [{ Key: "frugal:service", Value: plan.workload }]
    }
    return Effect.succeed({ region: plan.region, group, targetTracking, scaleIn, alarm })
  })
