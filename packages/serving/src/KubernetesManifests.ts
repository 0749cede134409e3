/**
 * A service plan as Kubernetes objects (pure; what `service apply --engine kubernetes --dry-run` prints):
 * - two Karpenter NodePools over the plan's instance types and zones (`topology.k8s.aws/zone-id`): `<name>-on-demand`
 *   (on-demand only, for the base) and `<name>-spot` (spot and on-demand: Karpenter launches spot where it can
 *   and falls back to on-demand when spot cannot be had; consolidation moves back to cheaper spot);
 * - a Deployment `<name>-base` of `onDemandBase` pods on the on-demand pool (the base is never spot), and a
 *   Deployment `<name>` on the spot pool, both spread over at least `zones.min` zones (topologySpreadConstraints
 *   with minDomains) and sharing the Service's selector;
 * - a KEDA ScaledObject scaling `<name>` between min − base and max − base with Prometheus triggers on the
 *   service's load per pod (vLLM's metrics: requests running + waiting, waiting, completed per second), HPA
 *   stabilisation windows from the delays, and a GPU-utilisation guard: a trigger asking for as many pods as there
 *   are while DCGM's utilisation was at or above the threshold at any minute of the scale-in window, so KEDA scales
 *   in only after it stayed below (the HPA takes the largest recommendation of its metrics);
 * - a Service and a PodDisruptionBudget keeping `replicas.min` pods through voluntary disruptions.
 */
import type { V1Deployment, V1PodDisruptionBudget, V1PodSpec, V1Service } from "@kubernetes/client-node"
import type { ServicePlan } from "./ServicePlan.ts"

export interface ServiceKubernetesSettings {
  readonly namespace: string
  /** The inference server's image; `run.command` of the workload, when given, is its command. */
  readonly image: string
  readonly port: number
  /** Prometheus that scrapes the server and DCGM, as KEDA reaches it. */
  readonly prometheusUrl: string
  /** Karpenter EC2NodeClass the node pools launch with. */
  readonly nodeClass: string
}

export const defaultServiceKubernetesSettings: ServiceKubernetesSettings = {
  namespace: "default",
  image: "vllm/vllm-openai:latest",
  port: 8000,
  prometheusUrl: "http://prometheus-server.monitoring.svc:80",
  nodeClass: "default"
}

interface NodePoolRequirement {
  readonly key: string
  readonly operator: "In"
  readonly values: ReadonlyArray<string>
}

export interface NodePoolManifest {
  readonly apiVersion: "karpenter.sh/v1"
  readonly kind: "NodePool"
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> }
  readonly spec: {
    readonly template: {
      readonly metadata: { readonly labels: Readonly<Record<string, string>> }
      readonly spec: {
        readonly nodeClassRef: { readonly group: string; readonly kind: string; readonly name: string }
        readonly requirements: ReadonlyArray<NodePoolRequirement>
        readonly taints: ReadonlyArray<{ readonly key: string; readonly effect: "NoSchedule" }>
        readonly expireAfter: string
      }
    }
    readonly disruption: { readonly consolidationPolicy: "WhenEmpty" | "WhenEmptyOrUnderutilized"; readonly consolidateAfter: string }
    readonly limits: Readonly<Record<string, string>>
  }
}

interface ScaledObjectTrigger {
  readonly type: "prometheus"
  readonly name: string
  readonly metricType: "AverageValue"
  readonly metadata: { readonly serverAddress: string; readonly query: string; readonly threshold: string }
}

export interface ScaledObjectManifest {
  readonly apiVersion: "keda.sh/v1alpha1"
  readonly kind: "ScaledObject"
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> }
  readonly spec: {
    readonly scaleTargetRef: { readonly name: string }
    readonly minReplicaCount: number
    readonly maxReplicaCount: number
    readonly pollingInterval: number
    readonly cooldownPeriod: number
    readonly advanced: {
      readonly horizontalPodAutoscalerConfig: {
        readonly behavior: {
          readonly scaleUp: { readonly stabilizationWindowSeconds: number }
          readonly scaleDown: { readonly stabilizationWindowSeconds: number }
        }
      }
    }
    readonly triggers: ReadonlyArray<ScaledObjectTrigger>
  }
}

export interface ServiceManifests {
  readonly nodePools: ReadonlyArray<NodePoolManifest>
  /** The on-demand base (absent when onDemandBase is 0) and the scaled deployment. */
  readonly deployments: ReadonlyArray<V1Deployment>
  readonly service: V1Service
  readonly scaledObject: ScaledObjectManifest
  readonly podDisruptionBudget: V1PodDisruptionBudget
}

/** The Kubernetes name of the service: its workload name (already a DNS label). */
export const serviceName = (plan: ServicePlan): string => plan.workload

/** PromQL selecting the scaled deployment's pods (`<name>-<replica set>-<pod>`; the base's pods have `-base`). */
const scaledPods = (name: string, namespace: string): string => `namespace="${namespace}",pod=~"${name}-[a-z0-9]+-[a-z0-9]+"`

export const serviceManifests = (
  plan: ServicePlan,
  settings: ServiceKubernetesSettings = defaultServiceKubernetesSettings,
  run: { readonly command?: ReadonlyArray<string> | undefined; readonly env?: Readonly<Record<string, string>> | undefined } = {}
): ServiceManifests => {
  const name = serviceName(plan)
  const { service } = plan
  const { namespace } = settings
  const base = Math.min(service.onDemandBase, service.replicas.max)
  const gpus = plan.replica.gpusPerReplica
  const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "frugal" }
  const pool = (suffix: "on-demand" | "spot") => `${name}-${suffix}`
  const requirements = (capacity: ReadonlyArray<string>): ReadonlyArray<NodePoolRequirement> => [
    { key: "karpenter.sh/capacity-type", operator: "In", values: capacity },
    { key: "node.kubernetes.io/instance-type", operator: "In", values: plan.replica.instanceTypes },
    { key: "topology.k8s.aws/zone-id", operator: "In", values: plan.zones.map((z) => z.zone) }
  ]
  const nodePool = (suffix: "on-demand" | "spot", capacity: ReadonlyArray<string>, pods: number): NodePoolManifest => ({
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: pool(suffix), labels },
    spec: {
      template: {
        metadata: { labels },
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: settings.nodeClass },
          requirements: requirements(capacity),
          taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
          expireAfter: "720h"
        }
      },
      disruption: suffix === "spot"
        ? { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m" }
        : { consolidationPolicy: "WhenEmpty", consolidateAfter: "5m" },
      limits: { "nvidia.com/gpu": String(Math.max(1, pods) * gpus) }
    }
  })
  const podSpec = (suffix: "on-demand" | "spot"): V1PodSpec => ({
    nodeSelector: { "karpenter.sh/nodepool": pool(suffix) },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    topologySpreadConstraints: [{
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      minDomains: service.zones.min,
      labelSelector: { matchLabels: { "app.kubernetes.io/name": name } }
    }],
    terminationGracePeriodSeconds: 60,
    containers: [{
      name: "server",
      image: settings.image,
      ...(run.command === undefined ? {} : { command: [...run.command] }),
      env: [
        { name: "FRUGAL_SERVICE", value: name },
        ...Object.entries(run.env ?? {}).map(([key, value]) => ({ name: key, value }))
      ],
      ports: [{ name: "http", containerPort: settings.port }],
      resources: { limits: { "nvidia.com/gpu": String(gpus) } },
      // A replica serves once the model is loaded: allowed the whole cold start.
      startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, failureThreshold: Math.max(1, Math.ceil(service.coldStartSeconds / 10)) },
      readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5 }
    }]
  })
  const deployment = (deploymentName: string, suffix: "on-demand" | "spot", replicas: number): V1Deployment => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: deploymentName, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { ...labels, "frugal.dev/pool": suffix } },
      template: { metadata: { labels: { ...labels, "frugal.dev/pool": suffix } }, spec: podSpec(suffix) }
    }
  })
  const scaledMin = Math.max(0, service.replicas.min - base)
  const scaledMax = Math.max(1, service.replicas.max - base)
  const pods = scaledPods(name, namespace)
  const trigger = (triggerName: string, query: string, threshold: number): ScaledObjectTrigger => ({
    type: "prometheus",
    name: triggerName,
    metricType: "AverageValue",
    metadata: { serverAddress: settings.prometheusUrl, query, threshold: String(threshold) }
  })
  const { target } = service
  const triggers: Array<ScaledObjectTrigger> = [
    ...(target.requestsInFlightPerReplica === undefined ? [] : [trigger(
      "requests-in-flight",
      `sum(vllm:num_requests_running{${pods}}) + sum(vllm:num_requests_waiting{${pods}})`,
      target.requestsInFlightPerReplica
    )]),
    ...(target.requestsPerSecondPerReplica === undefined ? [] : [trigger(
      "requests-per-second",
      `sum(rate(vllm:request_success_total{${pods}}[1m]))`,
      target.requestsPerSecondPerReplica
    )]),
    ...(target.queueDepthPerReplica === undefined ? [] : [trigger(
      "queue-depth",
      `sum(vllm:num_requests_waiting{${pods}})`,
      target.queueDepthPerReplica
    )]),
    trigger(
      "gpu-utilization-guard",
      `count(DCGM_FI_DEV_GPU_UTIL{${pods}}) * (max_over_time(avg(DCGM_FI_DEV_GPU_UTIL{${pods}})[${service.scaleInWindowMinutes}m:1m]) >= bool ${service.scaleInBelowGpuUtilization * 100})`,
      gpus
    )
  ]
  return {
    nodePools: [
      ...(base > 0 ? [nodePool("on-demand", ["on-demand"], base)] : []),
      nodePool("spot", ["spot", "on-demand"], scaledMax)
    ],
    deployments: [
      ...(base > 0 ? [deployment(`${name}-base`, "on-demand", base)] : []),
      deployment(name, "spot", Math.max(1, scaledMin))
    ],
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels },
      spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] }
    },
    scaledObject: {
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      metadata: { name, namespace, labels },
      spec: {
        scaleTargetRef: { name },
        minReplicaCount: scaledMin,
        maxReplicaCount: scaledMax,
        pollingInterval: 15,
        cooldownPeriod: service.scaleDownDelaySeconds,
        advanced: {
          horizontalPodAutoscalerConfig: {
            behavior: {
              scaleUp: { stabilizationWindowSeconds: service.scaleUpDelaySeconds },
              scaleDown: { stabilizationWindowSeconds: service.scaleDownDelaySeconds }
            }
          }
        },
        triggers
      }
    },
    podDisruptionBudget: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace, labels },
      spec: { minAvailable: service.replicas.min, selector: { matchLabels: labels } }
    }
  }
}

/** Every object, in the order to apply them. */
export const manifestList = (manifests: ServiceManifests): ReadonlyArray<object> => [
  ...manifests.nodePools,
  ...manifests.deployments,
  manifests.service,
  manifests.scaledObject,
  manifests.podDisruptionBudget
]
