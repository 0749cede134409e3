/**
 * The infrastructure profile: what this account can launch (ARCHITECTURE.md, "Infrastructure profile"). Plans are
 * made over it (AWS offers only where a subnet exists; Slurm partitions and Kubernetes pools as priced capacity) and
 * engines launch from it. Every value that ends up in generated text (user data, batch scripts, manifests) is held to
 * a pattern here, at decode, so that no character of a profile can start a command or a directive: resource ids,
 * names and paths admit no whitespace, quotes, `$`, backticks or control characters.
 */
import { Effect, Exit, Schema } from "effect"
import { type InputIssue, InvalidInput } from "./Errors.ts"
import { inputIssuesFromSchemaIssue, showValue, strictParseOptions } from "./SchemaIssues.ts"
import { Accelerator, Bounded, expecting, Region, withDefault } from "./Workload.ts"
import { looksBinary, parseText } from "./WorkloadFile.ts"

const pattern = (regex: RegExp, expected: string) => expecting(Schema.String.check(Schema.isPattern(regex)), expected)

/** AZ IDs are the same in every account: `use1-az4`, a Local Zone's `use1-atl2-az1`. */
export const AZ_ID = /^[a-z]{2,5}[0-9]{1,2}(-[a-z]{3}[0-9]{1,2})?-az[0-9]{1,2}$/
export const AvailabilityZoneId = pattern(
  AZ_ID,
  "an AZ ID like use1-az4, the same in every account, not a zone name like us-east-1a " +
    "(`aws ec2 describe-availability-zones --region REGION` lists each zone's ZoneName and ZoneId)"
)

const SUBNET = /^subnet-[0-9a-f]{8,17}$/
const AMI = /^ami-[0-9a-f]{8,17}$/
const LAUNCH_TEMPLATE = /^(lt-[0-9a-f]{17}|[A-Za-z0-9()./_-]{3,128})$/
const LAUNCH_TEMPLATE_VERSION = /^(\$Latest|\$Default|[0-9]{1,9})$/
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/
const INSTANCE_PROFILE = /^([A-Za-z0-9+=,.@_-]{1,128}|arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile\/[A-Za-z0-9+=,.@_/-]{1,128})$/
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const S3_URI = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9_.=+@,:-]+)*\/?$/
const EFS_URI = /^efs:\/\/fs-[0-9a-f]{8,17}(\/[A-Za-z0-9_.=+@,:-]+)*\/?$/
const KMS_KEY = /^(alias\/[A-Za-z0-9/_-]{1,250}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)\/[A-Za-z0-9/_-]{1,250})$/
const INSTANCE_TYPE_GLOB = /^[a-z0-9*?][a-z0-9.*?-]{0,63}$/
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/
/** An absolute path of ordinary characters: no whitespace, quotes, `$`, backticks, `\` or control characters. */
const SAFE_PATH = /^\/[A-Za-z0-9_.,+@=:/-]*$/
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$/
const CONTEXT = /^[A-Za-z0-9][A-Za-z0-9._@:/+-]{0,252}$/
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/
/** One shell line of the operator's set-up (run as root on the instance): printable, no line breaks or NUL. */
const SHELL_LINE = /^[^\u0000-\u001f\u007f]{1,4096}$/

const Name = pattern(NAME, "a name of letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)")
const DnsLabel = pattern(DNS_LABEL, "a DNS label: lowercase letters, digits and '-' (at most 63)")
const Price = Bounded({ min: 0, max: 100_000, unit: "USD per hour" })
/** Reclaims per node-hour that a cluster's owner states; absent, plans price the capacity as of unknown risk. */
const PreemptionsPerHour = Bounded({ min: 0, max: 100, unit: "pre-emptions per node-hour" })

export const CheckpointStore = Schema.Struct({
  /** `s3://bucket/prefix` (synced down before, up during and after an attempt) or `efs://fs-id/path` (mounted). */
  uri: expecting(
    Schema.String.check(Schema.makeFilter((uri: string) => uri.length <= 1024 && (S3_URI.test(uri) || EFS_URI.test(uri)))),
    "s3://bucket/prefix or efs://fs-0123456789abcdef0/path (letters, digits and _.=+@,:- in the path; at most 1,024 characters)"
  ),
  /** The store's region: attempts elsewhere pay inter-region transfer for the checkpoint. */
  region: Region,
  /** SSE-KMS key for the checkpoints (alias/…, key id or ARN); absent: the bucket's default encryption. */
  kmsKeyId: Schema.optionalKey(pattern(KMS_KEY, "a KMS key: alias/name, a key id, mrk-… or a key or alias ARN"))
})
export type CheckpointStore = typeof CheckpointStore.Type

export const AwsRegionProfile = Schema.Struct({
  /** AZ ID → the subnet attempts in that zone launch into. Spot and on-demand are placed only where a subnet exists. */
  subnets: expecting(
    Schema.Record(AvailabilityZoneId, pattern(SUBNET, "a subnet id like subnet-0abc1234")),
    "a mapping of AZ IDs to subnet ids, like { use1-az4: subnet-0abc1234 }"
  ),
  image: Schema.optionalKey(pattern(AMI, "an AMI id like ami-0123456789abcdef0")),
  launchTemplate: Schema.optionalKey(pattern(LAUNCH_TEMPLATE, "a launch template id (lt-…) or name")),
  launchTemplateVersion: Schema.optionalKey(pattern(LAUNCH_TEMPLATE_VERSION, "$Latest, $Default or a version number")),
  securityGroups: Schema.optionalKey(Schema.Array(pattern(SECURITY_GROUP, "a security group id like sg-0123abcd"))),
  instanceProfile: Schema.optionalKey(pattern(INSTANCE_PROFILE, "an instance profile name or ARN")),
  keyName: Schema.optionalKey(Name),
  /** An existing cluster placement group for multi-node attempts in this region. */
  placementGroup: Schema.optionalKey(Name)
}).check(Schema.makeFilter(
  (region: { readonly image?: string; readonly launchTemplate?: string; readonly subnets: Readonly<Record<string, string>> }) =>
    region.image === undefined && region.launchTemplate === undefined
      ? { path: ["image"], issue: "an AMI id (image) or a launchTemplate: the instance needs something to boot" }
      : Object.keys(region.subnets).length === 0
      ? { path: ["subnets"], issue: "at least one AZ ID with its subnet" }
      : undefined,
  { expected: "an image or launch template, and at least one subnet" }
))
export type AwsRegionProfile = typeof AwsRegionProfile.Type

export const AwsProfile = Schema.Struct({
  /** Where training checkpoints are kept; needed to run training on EC2 (a service needs none). */
  checkpoints: Schema.optionalKey(CheckpointStore),
  /** Allow-list of instance types, globs allowed (`g6e.*`); absent: every GPU type. */
  instanceTypes: Schema.optionalKey(Schema.Array(pattern(INSTANCE_TYPE_GLOB, "an instance type or glob like p5.48xlarge or g6e.*"))),
  regions: expecting(Schema.Record(Region, AwsRegionProfile), "a mapping of AWS regions to their subnets, image and roles"),
  /** Shell lines run as root on each instance before the job (fetch the code, install packages). */
  setup: Schema.optionalKey(Schema.Array(pattern(SHELL_LINE, "one shell line (no line breaks or control characters)"))),
  /** Seconds between DescribeInstances calls while an attempt runs. */
  pollSeconds: withDefault(Bounded({ min: 0.01, max: 3600, unit: "seconds" }), 15),
  rendezvousPort: withDefault(Bounded({ min: 1, max: 65_535, integer: true }), 29_400)
}).check(Schema.makeFilter(
  (aws: { readonly regions: Readonly<Record<string, unknown>> }) =>
    Object.keys(aws.regions).length === 0 ? { path: ["regions"], issue: "at least one region" } : undefined,
  { expected: "at least one region" }
))
export type AwsProfile = typeof AwsProfile.Type

export const SlurmPartition = Schema.Struct({
  name: Name,
  /** The partition's GPU; absent for a CPU partition. */
  accelerator: Schema.optionalKey(Accelerator),
  gpusPerNode: withDefault(Bounded({ min: 0, max: 64, integer: true }), 0),
  /** Nodes an attempt may take at most. */
  nodes: Bounded({ min: 1, max: 100_000, integer: true }),
  /** What one node-hour costs (amortised hardware and power, or the internal rate). */
  hourlyPriceUsd: Price,
  /** Jobs here may be pre-empted (and requeued): planned and charged like spot. */
  preemptible: withDefault(expecting(Schema.Boolean, "true or false"), false),
  /** Pre-emptions per node-hour on a preemptible partition: plans price its interruptions at this rate. */
  preemptionsPerHour: Schema.optionalKey(PreemptionsPerHour),
  account: Schema.optionalKey(Name),
  qos: Schema.optionalKey(Name)
})
export type SlurmPartition = typeof SlurmPartition.Type

export const SlurmCluster = Schema.Struct({
  name: Name,
  partitions: expecting(Schema.NonEmptyArray(SlurmPartition), "a non-empty list of partitions"),
  /** Shared directory for batch scripts and per-attempt outputs; default: next to the job's checkpoints. */
  outputDirectory: Schema.optionalKey(pattern(SAFE_PATH, "an absolute path of letters, digits and _.,+@=:/-")),
  /** Whole minutes of `--time`; absent: from the plan's estimate. */
  timeLimitMinutes: Schema.optionalKey(Bounded({ min: 1, max: 525_600, integer: true, unit: "minutes" })),
  /** Where the cluster's data is, for transfer costs: an AWS region, or absent (on premises). */
  region: Schema.optionalKey(Region)
})
export type SlurmCluster = typeof SlurmCluster.Type

export const KubernetesPool = Schema.Struct({
  name: DnsLabel,
  accelerator: Schema.optionalKey(Accelerator),
  gpusPerNode: withDefault(Bounded({ min: 0, max: 64, integer: true }), 0),
  capacityType: expecting(Schema.Literals(["spot", "on-demand"]), "spot or on-demand"),
  zone: Schema.optionalKey(AvailabilityZoneId),
  /** The EC2 instance type of the pool's nodes, selected with node.kubernetes.io/instance-type. */
  instanceType: Schema.optionalKey(pattern(INSTANCE_TYPE, "an EC2 instance type like p5.48xlarge")),
  /** Nodes (pods) an attempt may take at most. */
  maxNodes: withDefault(Bounded({ min: 1, max: 100_000, integer: true }), 64),
  hourlyPriceUsd: Price,
  /** Reclaims per node-hour of a spot pool: plans price its interruptions at this rate. */
  preemptionsPerHour: Schema.optionalKey(PreemptionsPerHour)
})
export type KubernetesPool = typeof KubernetesPool.Type

export const KubernetesCluster = Schema.Struct({
  name: Name,
  /** The kubeconfig context; absent: the current context. */
  context: Schema.optionalKey(pattern(CONTEXT, "a kubeconfig context name")),
  namespace: withDefault(DnsLabel, "default"),
  image: withDefault(pattern(IMAGE, "a container image reference like ghcr.io/acme/train:1.2"), "frugal-trainer:latest"),
  imagePullPolicy: Schema.optionalKey(expecting(Schema.Literals(["Always", "IfNotPresent", "Never"]), "Always, IfNotPresent or Never")),
  serviceAccount: Schema.optionalKey(DnsLabel),
  checkpointClaim: Schema.optionalKey(DnsLabel),
  storageClass: Schema.optionalKey(DnsLabel),
  checkpointSize: withDefault(pattern(QUANTITY, "a storage quantity like 100Gi"), "100Gi"),
  capacityLabel: withDefault(expecting(Schema.Literals(["karpenter", "eks"]), "karpenter or eks"), "karpenter"),
  /** AZ ID → zone name (`use1-az4: us-east-1a`) for topology.kubernetes.io/zone; unmapped IDs use topology.k8s.aws/zone-id. */
  zoneNames: Schema.optionalKey(Schema.Record(AvailabilityZoneId, pattern(/^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$/, "a zone name like us-east-1a"))),
  /** The Karpenter EC2NodeClass that services' NodePools use (`frugal service apply`; default `default`). */
  nodeClass: Schema.optionalKey(DnsLabel),
  /** The cluster's AWS region (for prices of its zones and transfer costs); absent: from its pools' zones. */
  region: Schema.optionalKey(Region),
  /** Node pools offered to training jobs as priced capacity; a cluster used only for services may list none. */
  pools: withDefault(Schema.Array(KubernetesPool), [])
})
export type KubernetesCluster = typeof KubernetesCluster.Type

export const InfraProfile = Schema.Struct({
  aws: Schema.optionalKey(AwsProfile),
  slurm: Schema.optionalKey(Schema.Array(SlurmCluster)),
  kubernetes: Schema.optionalKey(Schema.Array(KubernetesCluster)),
  /** What this machine costs, so local attempts are charged. */
  local: Schema.optionalKey(Schema.Struct({ hourlyPriceUsd: Price }))
}).annotate({ identifier: "InfraProfile", description: "What this account can launch: AWS regions, Slurm clusters, Kubernetes pools." })
  .check(Schema.makeFilter((profile: {
    readonly slurm?: ReadonlyArray<{ readonly name: string; readonly partitions: ReadonlyArray<{ readonly name: string }> }>
    readonly kubernetes?: ReadonlyArray<{ readonly name: string; readonly pools: ReadonlyArray<{ readonly name: string }> }>
  }) => {
    const issues: Array<Schema.FilterIssue> = []
    const unique = (section: string, names: ReadonlyArray<string>, prefix: ReadonlyArray<PropertyKey> = []) => {
      const seen = new Set<string>()
      names.forEach((name, index) => {
        if (seen.has(name)) issues.push({ path: [...prefix, section, index, "name"], issue: `a name unused by the others (${name} repeats)` })
        seen.add(name)
      })
    }
    unique("slurm", (profile.slurm ?? []).map((c) => c.name))
    unique("kubernetes", (profile.kubernetes ?? []).map((c) => c.name))
    profile.slurm?.forEach((c, i) => unique("partitions", c.partitions.map((p) => p.name), ["slurm", i]))
    profile.kubernetes?.forEach((c, i) => unique("pools", c.pools.map((p) => p.name), ["kubernetes", i]))
    return issues
  }, { expected: "unique cluster, partition and pool names" }))
export type InfraProfile = typeof InfraProfile.Type

const decodeProfile = Schema.decodeUnknownExit(InfraProfile)

/** The largest profile accepted: a few KB is typical. */
const MAX_PROFILE_CHARACTERS = 1024 * 1024

/**
 * Decodes the text of a profile (YAML or JSON). Fails with one `InvalidInput` listing every problem with its
 * field path (`aws.regions.us-east-1.subnets.use1-az4`), like a workload file.
 */
export const decodeInfraProfile = (text: string, sourceName: string): Effect.Effect<InfraProfile, InvalidInput> =>
  Effect.suspend(() => {
    const fail = (issues: ReadonlyArray<InputIssue>) => Effect.fail(new InvalidInput({ source: sourceName, issues }))
    if (text.length > MAX_PROFILE_CHARACTERS) {
      return fail([{ path: "", expected: "a profile of at most 1 MiB", actual: `${text.length} characters` }])
    }
    if (looksBinary(text)) return fail([{ path: "", expected: "a UTF-8 text file in YAML or JSON", actual: "binary data" }])
    if (text.trim() === "") return fail([{ path: "", expected: "a profile with aws, slurm, kubernetes or local", actual: "an empty file" }])
    const parsed = parseText(text)
    if ("issues" in parsed) return fail(parsed.issues)
    const value = parsed.value
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return fail([{ path: "", expected: "a mapping with aws, slurm, kubernetes or local", actual: showValue(value) }])
    }
    const exit = decodeProfile(value, strictParseOptions)
    if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
    const error = Exit.findErrorOption(exit)
    const issues = error._tag === "None" ? [] : inputIssuesFromSchemaIssue(error.value.issue)
    return fail(issues.length > 0 ? issues : [{ path: "", expected: "a valid infrastructure profile" }])
  })

/** An empty profile: nothing but this machine. */
export const EMPTY_PROFILE: InfraProfile = {}

/** `instanceTypes` globs (`g6e.*`, `p5?.48xlarge`) as one test. */
export const instanceTypeAllowed = (profile: InfraProfile, instanceType: string): boolean => {
  const globs = profile.aws?.instanceTypes
  if (globs === undefined) return true
  return globs.some((glob) => new RegExp(`^${glob.replace(/[.]/g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".")}$`).test(instanceType))
}
