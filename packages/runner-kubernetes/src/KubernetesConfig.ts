/**
 * The Kubernetes engine's settings from the environment. The cluster and credentials come from the kubeconfig
 * the way kubectl finds it (`KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account).
 *
 * | variable | meaning (default) |
 * |---|---|
 * | FRUGAL_K8S_NAMESPACE | namespace of every object (default) |
 * | FRUGAL_K8S_IMAGE | container image with the command (frugal-trainer:latest) |
 * | FRUGAL_K8S_IMAGE_PULL_POLICY | Always, IfNotPresent or Never |
 * | FRUGAL_K8S_SERVICE_ACCOUNT | pods' service account (the namespace default) |
 * | FRUGAL_K8S_CHECKPOINT_CLAIM | an existing PVC for checkpoints (one per job, created: frugal-JOB-checkpoints) |
 * | FRUGAL_K8S_STORAGE_CLASS, FRUGAL_K8S_CHECKPOINT_SIZE | class and size of a created PVC (cluster default, 100Gi) |
 * | FRUGAL_K8S_CAPACITY_LABEL | karpenter (karpenter.sh/capacity-type) or eks (eks.amazonaws.com/capacityType) |
 * | FRUGAL_K8S_ZONE_NAMES | AZ ID to zone name, `use1-az4=us-east-1a,use1-az6=us-east-1b` |
 * | FRUGAL_K8S_TOLERATIONS | more tolerations, `key=value:NoSchedule,key:NoExecute` |
 * | FRUGAL_K8S_GRACE_SECONDS | terminationGracePeriodSeconds (300) |
 * | FRUGAL_K8S_BACKOFF_LIMIT | the Job's backoffLimit (2) |
 * | FRUGAL_K8S_UNSCHEDULABLE_SECONDS | how long a pod no node can take may wait before the launch counts as failed and the job fails over (600); every cluster |
 * | FRUGAL_K8S_NODES, FRUGAL_K8S_GPUS_PER_NODE | pods per attempt and GPUs per pod (from resources.accelerators) |
 */
import { Effect } from "effect"
import { InvalidInput } from "@frugal/core"
import { defaultKubernetesSettings, type KubernetesSettings, type Toleration } from "./Manifests.ts"

export interface KubernetesEnvironment {
  readonly settings: KubernetesSettings
  readonly nodes: number | null
  readonly gpusPerNode: number | null
  /** FRUGAL_K8S_UNSCHEDULABLE_SECONDS when set: it holds for the profile's clusters too. */
  readonly unschedulableTimeoutSeconds: number | null
}

const EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const
const isEffect = (text: string): text is (typeof EFFECTS)[number] => EFFECTS.some((effect) => effect === text)
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const
const isPullPolicy = (text: string): text is (typeof PULL_POLICIES)[number] => PULL_POLICIES.some((p) => p === text)

export const kubernetesSettingsFromEnvironment = (
  env: NodeJS.ProcessEnv
): Effect.Effect<KubernetesEnvironment, InvalidInput> =>
  Effect.gen(function*() {
    const issues: Array<{ path: string; expected: string; actual: string }> = []
    const text = (name: string): string | null => {
      const value = env[name]?.trim()
      return value === undefined || value === "" ? null : value
    }
    const integer = (name: string, minimum: number): number | null => {
      const raw = text(name)
      if (raw === null) return null
      const value = Number(raw)
      if (Number.isInteger(value) && value >= minimum) return value
      issues.push({ path: name, expected: `an integer ≥ ${minimum}`, actual: raw })
      return null
    }
    const tolerations: Array<Toleration> = []
    for (const entry of (text("FRUGAL_K8S_TOLERATIONS") ?? "").split(",").filter((e) => e.trim() !== "")) {
      const match = /^([^=:\s]+)(?:=([^:\s]+))?(?::(\w+))?$/.exec(entry.trim())
      const effect = match?.[3]
      if (match === null || match[1] === undefined || (effect !== undefined && !isEffect(effect))) {
        issues.push({ path: "FRUGAL_K8S_TOLERATIONS", expected: "key[=value][:NoSchedule|PreferNoSchedule|NoExecute], comma-separated", actual: entry })
        continue
      }
      tolerations.push({
        key: match[1],
        ...(match[2] === undefined ? { operator: "Exists" as const } : { operator: "Equal" as const, value: match[2] }),
        ...(effect !== undefined && isEffect(effect) ? { effect } : {})
      })
    }
    const zoneNames: Record<string, string> = {}
    for (const entry of (text("FRUGAL_K8S_ZONE_NAMES") ?? "").split(",").filter((e) => e.trim() !== "")) {
      const [id, name] = entry.split("=").map((part) => part.trim())
      if (id === undefined || name === undefined || id === "" || name === "") {
        issues.push({ path: "FRUGAL_K8S_ZONE_NAMES", expected: "AZ-ID=zone-name pairs, comma-separated", actual: entry })
      } else zoneNames[id] = name
    }
    const capacity = text("FRUGAL_K8S_CAPACITY_LABEL") ?? "karpenter"
    if (capacity !== "karpenter" && capacity !== "eks") {
      issues.push({ path: "FRUGAL_K8S_CAPACITY_LABEL", expected: "karpenter or eks", actual: capacity })
    }
    const pull = text("FRUGAL_K8S_IMAGE_PULL_POLICY")
    if (pull !== null && !isPullPolicy(pull)) {
      issues.push({ path: "FRUGAL_K8S_IMAGE_PULL_POLICY", expected: "Always, IfNotPresent or Never", actual: pull })
    }
    // Values that reach manifests are held to the same patterns as the profile's.
    const patterned = (name: string, pattern: RegExp, expected: string): string | null => {
      const value = text(name)
      if (value === null || (pattern.test(value) && env[name]?.trim() === value)) return value
      issues.push({ path: name, expected, actual: JSON.stringify(env[name]) })
      return null
    }
    const namespace = patterned("FRUGAL_K8S_NAMESPACE", /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "a DNS label: lowercase letters, digits and '-'")
    const image = patterned("FRUGAL_K8S_IMAGE", /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$/, "a container image reference like ghcr.io/acme/train:1.2")
    const serviceAccount = patterned("FRUGAL_K8S_SERVICE_ACCOUNT", /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "a service account name")
    const claim = patterned("FRUGAL_K8S_CHECKPOINT_CLAIM", /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "a PersistentVolumeClaim name")
    const storageClass = patterned("FRUGAL_K8S_STORAGE_CLASS", /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, "a storage class name")
    const size = patterned("FRUGAL_K8S_CHECKPOINT_SIZE", /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, "a storage quantity like 100Gi")
    const grace = integer("FRUGAL_K8S_GRACE_SECONDS", 1)
    const backoff = integer("FRUGAL_K8S_BACKOFF_LIMIT", 0)
    const nodes = integer("FRUGAL_K8S_NODES", 1)
    const gpusPerNode = integer("FRUGAL_K8S_GPUS_PER_NODE", 0)
    const unschedulable = integer("FRUGAL_K8S_UNSCHEDULABLE_SECONDS", 1)
    if (issues.length > 0) return yield* new InvalidInput({ source: "environment", issues })
    const d = defaultKubernetesSettings
    return {
      nodes,
      gpusPerNode,
      unschedulableTimeoutSeconds: unschedulable,
      settings: {
        ...d,
        namespace: namespace ?? d.namespace,
        image: image ?? d.image,
        imagePullPolicy: pull !== null && isPullPolicy(pull) ? pull : null,
        serviceAccountName: serviceAccount,
        checkpointClaim: claim,
        checkpointStorageClass: storageClass,
        checkpointSize: size ?? d.checkpointSize,
        capacityTypeLabel: capacity === "eks" ? "eks" : "karpenter",
        zoneNames,
        extraTolerations: tolerations,
        terminationGracePeriodSeconds: grace ?? d.terminationGracePeriodSeconds,
        backoffLimit: backoff ?? d.backoffLimit,
        unschedulableTimeoutSeconds: unschedulable ?? d.unschedulableTimeoutSeconds
      }
    }
  })
