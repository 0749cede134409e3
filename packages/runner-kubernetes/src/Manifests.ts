/**
 * The Kubernetes objects for one attempt: pure data in, plain manifests out (what `--dry-run` prints and what
 * the runner creates). One Job per attempt; several nodes make it an Indexed Job whose pods find each other
 * through a headless Service (`<job>-0.<service>` is the c10d rendezvous); checkpoints live on a
 * PersistentVolumeClaim per Frugal job, so the next attempt, on any node, resumes from them.
 *
 * What the placement asks for: `nvidia.com/gpu` limits per pod (its GPUs per instance), one pod per instance, and
 * node selectors for its capacity type (`karpenter.sh/capacity-type`), zone (`topology.kubernetes.io/zone`, or
 * EKS's `topology.k8s.aws/zone-id` for an AZ ID without a known name), instance type
 * (`node.kubernetes.io/instance-type`) and, on Karpenter, GPU (`karpenter.k8s.aws/instance-gpu-name`).
 *
 * The kubelet expands `$(VAR)` in a container's command, args and env values; every `$` of the job's own text is
 * written `$$`, so argv and environment arrive verbatim.
 *
 * Failure policy (Kubernetes "Handling retriable and non-retriable pod failures with Pod failure policy"):
 * a pod that ends with the `DisruptionTarget` condition (spot reclamation, node drain, pre-emption) is
 * ignored, not counted against `backoffLimit`; a container exit code other than 0 and 75 (the protocol's
 * "interrupted, resumable") fails the Job at once, so an application error is never retried in a loop.
 */
import type { V1Job, V1PersistentVolumeClaim, V1Service } from "@kubernetes/client-node"
import { type AttemptRequest, processesPerNode, standalone, torchrunArgv } from "@frugal/runner"

export interface KubernetesSettings {
  readonly namespace: string
  /** Container image holding the command (the reference trainer: `python3 -m frugal_trainer`). */
  readonly image: string
  readonly imagePullPolicy: "Always" | "IfNotPresent" | "Never" | null
  readonly serviceAccountName: string | null
  /** Name of the checkpoint claim; default `frugal-<job>-checkpoints`, created when missing. */
  readonly checkpointClaim: string | null
  readonly checkpointStorageClass: string | null
  readonly checkpointSize: string
  readonly checkpointMountPath: string
  /** Which node label carries the capacity type: Karpenter's or EKS managed node groups'. */
  readonly capacityTypeLabel: "karpenter" | "eks"
  /** AZ ID → zone name (`use1-az4` → `us-east-1a`), for `topology.kubernetes.io/zone`. */
  readonly zoneNames: Readonly<Record<string, string>>
  readonly extraTolerations: ReadonlyArray<Toleration>
  /** Seconds between SIGTERM and SIGKILL: long enough for the final checkpoint. */
  readonly terminationGracePeriodSeconds: number
  /** Pod failures the Job itself retries (exit 75 without a disruption); disruptions never count. */
  readonly backoffLimit: number
  readonly rendezvousPort: number
  /** Profile pool (`cluster/pool`) → the EC2 instance type of its nodes, for the instance-type selector. */
  readonly poolInstanceTypes: Readonly<Record<string, string>>
  /** Seconds a pod may stay unschedulable before the attempt counts as not provisioned (default 600). */
  readonly unschedulableTimeoutSeconds: number
}

export const defaultKubernetesSettings: KubernetesSettings = {
  namespace: "default",
  image: "frugal-trainer:latest",
  imagePullPolicy: null,
  serviceAccountName: null,
  checkpointClaim: null,
  checkpointStorageClass: null,
  checkpointSize: "100Gi",
  checkpointMountPath: "/checkpoints",
  capacityTypeLabel: "karpenter",
  zoneNames: {},
  extraTolerations: [],
  terminationGracePeriodSeconds: 300,
  backoffLimit: 2,
  rendezvousPort: 29500,
  poolInstanceTypes: {},
  unschedulableTimeoutSeconds: 600
}

export interface Toleration {
  readonly key: string
  readonly operator: "Exists" | "Equal"
  readonly value?: string
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute"
}

/** The exit code that means "checkpointed, resumable"; the rest of the non-zero codes are application errors. */
const INTERRUPTED_EXIT_CODE = 75
export const CONTAINER_NAME = "trainer"
export const LABEL_JOB = "frugal.dev/job"
export const LABEL_ATTEMPT = "frugal.dev/attempt"

/** A DNS-1123 label of at most `max` characters, unique for distinct inputs (a hash suffix when shortened). */
export const dnsLabel = (text: string, max = 63): string => {
  const clean = text.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "x"
  if (clean.length <= max) return clean
  let hash = 2166136261
  for (const char of text) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 16777619) >>> 0
  const suffix = hash.toString(36)
  return `${clean.slice(0, max - suffix.length - 1).replace(/-+$/, "")}-${suffix}`
}

/** Text the kubelet passes through as written: `$` becomes `$$`, so no `$(VAR)` is expanded. */
export const kubeletLiteral = (text: string): string => text.replaceAll("$", "$$$$")

/** An EC2 instance type name, as opposed to a pool or partition name. */
const EC2_INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[0-9]*[a-z0-9-]+$/

/** Karpenter's GPU name label value of an accelerator (`H100` → `h100`, `A100-80GB` → `a100`). */
const karpenterGpuName = (accelerator: string): string => accelerator.toLowerCase().replace(/-.*$/, "")

/** Job name of an attempt; short enough that `<name>-<index>` stays a valid pod hostname. */
export const jobName = (attemptId: string): string => dnsLabel(`frugal-${attemptId}`, 52)
export const claimName = (settings: KubernetesSettings, jobId: string): string =>
  settings.checkpointClaim ?? dnsLabel(`frugal-${jobId}-checkpoints`)

const capacityType = (settings: KubernetesSettings, purchaseOption: string): Record<string, string> => {
  if (purchaseOption !== "spot" && purchaseOption !== "on-demand") return {}
  return settings.capacityTypeLabel === "karpenter"
    ? { "karpenter.sh/capacity-type": purchaseOption }
    : { "eks.amazonaws.com/capacityType": purchaseOption === "spot" ? "SPOT" : "ON_DEMAND" }
}

/** AZ IDs select on EKS's `topology.k8s.aws/zone-id`; zone names (or mapped IDs) on the well-known zone label. */
const zoneSelector = (settings: KubernetesSettings, zone: string | null): Record<string, string> => {
  if (zone === null) return {}
  const name = settings.zoneNames[zone] ?? (/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone) ? zone : null)
  return name === null ? { "topology.k8s.aws/zone-id": zone } : { "topology.kubernetes.io/zone": name }
}

/**
 * The argv inside the container. The reference trainer's local interpreter path means nothing in an image,
 * so an absolute python becomes `python3`; several nodes run one torchrun per pod meeting at pod 0.
 */
const containerArgv = (request: AttemptRequest, settings: KubernetesSettings, name: string): Array<string> => {
  const [program, ...rest] = request.launch.argv
  const argv = [/^\/.*\/python3?(\.\d+)?$/.test(program) ? "python3" : program, ...rest]
  const nodes = request.placement.instanceCount
  const processes = processesPerNode(request.placement.acceleratorsPerInstance, request.launch.processesPerNode)
  // This machine's torchrun wrapper (a path to its python) becomes the image's.
  const torchrun: readonly [string, ...Array<string>] | undefined = request.launch.torchrunProgram === undefined
    ? undefined
    : ["python3", "-m", "frugal_trainer.torchrun"]
  const launched = nodes > 1
    ? torchrunArgv({
      argv,
      processesPerNode: processes,
      rendezvous: { _tag: "C10d", nodes, endpoint: `${name}-0.${name}.${settings.namespace}.svc:${settings.rendezvousPort}`, id: name },
      ...(torchrun === undefined ? {} : { program: torchrun })
    })
    : processes > 1
    ? torchrunArgv({ argv, processesPerNode: processes, rendezvous: standalone, ...(torchrun === undefined ? {} : { program: torchrun }) })
    : argv
  return launched.map(kubeletLiteral)
}

export interface AttemptManifests {
  readonly claim: V1PersistentVolumeClaim
  readonly service: V1Service | null
  readonly job: V1Job
}

export const attemptManifests = (request: AttemptRequest, settings: KubernetesSettings): AttemptManifests => {
  const name = jobName(request.attemptId)
  const claim = claimName(settings, request.jobId)
  const nodes = Math.max(1, request.placement.instanceCount)
  const gpus = request.placement.acceleratorsPerInstance
  // A pool's instance type (the profile names it) or the placement's own when it is an EC2 type.
  const instanceType = settings.poolInstanceTypes[request.placement.pool ?? ""] ??
    (EC2_INSTANCE_TYPE.test(request.placement.instanceType) ? request.placement.instanceType : null)
  const labels = { "app.kubernetes.io/managed-by": "frugal", [LABEL_JOB]: dnsLabel(request.jobId), [LABEL_ATTEMPT]: name }
  const checkpointDir = `${settings.checkpointMountPath}/${dnsLabel(request.jobId)}`
  // The local machine's PYTHONPATH points at this checkout; the image brings its own.
  const { PYTHONPATH: _localPath, ...userEnv } = request.launch.env
  const env = {
    PYTHONUNBUFFERED: "1",
    FRUGAL_JOB_ID: request.jobId,
    FRUGAL_ATTEMPT_ID: request.attemptId,
    ...(request.checkpointEverySeconds === null ? {} : { FRUGAL_CHECKPOINT_EVERY_SECONDS: String(request.checkpointEverySeconds) }),
    ...userEnv,
    FRUGAL_CHECKPOINT_DIR: checkpointDir
  }
  const tolerations = [
    ...(gpus > 0 ? [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] : []),
    ...settings.extraTolerations
  ]
  const podSpec = {
    restartPolicy: "Never",
    terminationGracePeriodSeconds: settings.terminationGracePeriodSeconds,
    ...(settings.serviceAccountName === null ? {} : { serviceAccountName: settings.serviceAccountName }),
    ...(nodes > 1 ? { subdomain: name } : {}),
    nodeSelector: {
      ...capacityType(settings, request.placement.purchaseOption),
      ...zoneSelector(settings, request.placement.availabilityZone),
      ...(instanceType === null ? {} : { "node.kubernetes.io/instance-type": instanceType }),
      ...(gpus > 0 && request.placement.accelerator !== null && settings.capacityTypeLabel === "karpenter"
        ? { "karpenter.k8s.aws/instance-gpu-name": karpenterGpuName(request.placement.accelerator) }
        : {})
    },
    ...(tolerations.length > 0 ? { tolerations } : {}),
    containers: [{
      name: CONTAINER_NAME,
      image: settings.image,
      ...(settings.imagePullPolicy === null ? {} : { imagePullPolicy: settings.imagePullPolicy }),
      command: containerArgv(request, settings, name),
      env: Object.entries(env).map(([envName, value]) => ({ name: envName, value: kubeletLiteral(value) })),
      ...(gpus > 0 ? { resources: { limits: { "nvidia.com/gpu": String(gpus) } } } : {}),
      ...(nodes > 1 ? { ports: [{ name: "rendezvous", containerPort: settings.rendezvousPort }] } : {}),
      volumeMounts: [{ name: "checkpoints", mountPath: settings.checkpointMountPath }]
    }],
    volumes: [{ name: "checkpoints", persistentVolumeClaim: { claimName: claim } }]
  }
  const job: V1Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: settings.namespace, labels },
    spec: {
      ...(nodes > 1 ? { completionMode: "Indexed", completions: nodes, parallelism: nodes } : {}),
      backoffLimit: settings.backoffLimit,
      podFailurePolicy: {
        rules: [
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
          {
            action: "FailJob",
            onExitCodes: { containerName: CONTAINER_NAME, operator: "NotIn", values: [0, INTERRUPTED_EXIT_CODE] }
          }
        ]
      },
      template: { metadata: { labels }, spec: podSpec }
    }
  }
  const service: V1Service | null = nodes > 1
    ? {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: settings.namespace, labels },
      spec: {
        clusterIP: "None",
        // Pods must resolve each other before they are ready: the rendezvous is what makes them ready.
        publishNotReadyAddresses: true,
        selector: { [LABEL_ATTEMPT]: name },
        ports: [{ name: "rendezvous", port: settings.rendezvousPort, targetPort: settings.rendezvousPort }]
      }
    }
    : null
  const claimManifest: V1PersistentVolumeClaim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace: settings.namespace, labels: { "app.kubernetes.io/managed-by": "frugal", [LABEL_JOB]: dnsLabel(request.jobId) } },
    spec: {
      // Attempts land on different nodes (and several pods share it): the volume must be shared.
      accessModes: ["ReadWriteMany"],
      ...(settings.checkpointStorageClass === null ? {} : { storageClassName: settings.checkpointStorageClass }),
      resources: { requests: { storage: settings.checkpointSize } }
    }
  }
  return { claim: claimManifest, service, job }
}
