/**
 * The EC2 engine's settings: the `aws` section of the infrastructure profile (regions with their subnets per AZ ID,
 * image or launch template, security groups, instance profile; the checkpoint store), with the `FRUGAL_EC2_*`
 * environment variables as overrides for one region. Credentials, profile and endpoints come the standard AWS way
 * (credential chain, `AWS_PROFILE`, `AWS_ENDPOINT_URL_EC2`).
 *
 * | variable | meaning |
 * |---|---|
 * | FRUGAL_EC2_REGION | the region the other variables describe (default AWS_REGION) |
 * | FRUGAL_EC2_SUBNETS | AZ ID to subnet, `use1-az4=subnet-0abc,use1-az6=subnet-0def` |
 * | FRUGAL_EC2_AMI | AMI id; or FRUGAL_EC2_LAUNCH_TEMPLATE (`lt-…` or a name) and FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION |
 * | FRUGAL_EC2_INSTANCE_PROFILE | instance profile ARN or name |
 * | FRUGAL_EC2_SECURITY_GROUPS | security group ids, comma-separated |
 * | FRUGAL_EC2_KEY_NAME | key pair name |
 * | FRUGAL_EC2_PLACEMENT_GROUP | existing cluster placement group for multi-node attempts |
 * | FRUGAL_EC2_CHECKPOINT_URI | `s3://bucket/prefix` or `efs://fs-0123/path` |
 * | FRUGAL_EC2_CHECKPOINT_REGION | the checkpoint store's region (default the region above) |
 * | FRUGAL_EC2_KMS_KEY | SSE-KMS key for the checkpoints |
 * | FRUGAL_EC2_SETUP | shell lines run first on the instance (fetch the code), separated by newlines |
 * | FRUGAL_EC2_POLL_SECONDS | seconds between DescribeInstances calls (15) |
 * | FRUGAL_EC2_RENDEZVOUS_PORT | torchrun c10d rendezvous port on node 0 (29400) |
 *
 * The environment is turned into the same profile section and decoded by the same Schema, so a bad value is refused
 * by the same rule whichever way it came, and the error names the variable.
 */
import { Effect, Exit, Schema } from "effect"
import { AwsProfile, type InfraProfile, type InputIssue, inputIssuesFromSchemaIssue, InvalidInput, strictParseOptions } from "@frugal/core"

export interface Ec2RegionSettings {
  /** AZ ID (`use1-az4`) → subnet id. */
  readonly subnets: Readonly<Record<string, string>>
  readonly imageId: string | null
  /** Launch template id (`lt-…`) or name; its version defaults to `$Default`. */
  readonly launchTemplate: string | null
  readonly launchTemplateVersion: string | null
  /** Instance profile ARN or name, giving the instance its S3/EFS, ec2:CreateTags and ec2:DescribeInstances rights. */
  readonly instanceProfile: string | null
  readonly securityGroupIds: ReadonlyArray<string>
  readonly keyName: string | null
  /** An existing placement group (strategy `cluster`) for multi-node attempts; single-node attempts ignore it. */
  readonly placementGroup: string | null
}

export interface Ec2Settings {
  readonly regions: Readonly<Record<string, Ec2RegionSettings>>
  /** `s3://bucket/prefix` or `efs://fs-id/path`, its region, and the SSE-KMS key (null: the bucket's default). */
  readonly checkpoints: { readonly uri: string; readonly region: string; readonly kmsKeyId: string | null }
  readonly setupCommands: ReadonlyArray<string>
  /** Seconds between DescribeInstances calls. */
  readonly pollSeconds: number
  /** torchrun c10d rendezvous port on node 0 of a multi-node attempt. */
  readonly rendezvousPort: number
}

/** The profile's `aws` section as engine settings; its checkpoint store is required (`ec2CheckpointsMissing`). */
export const ec2SettingsFromProfile = (aws: AwsProfile & { readonly checkpoints: NonNullable<AwsProfile["checkpoints"]> }): Ec2Settings => ({
  regions: Object.fromEntries(Object.entries(aws.regions).map(([region, r]): readonly [string, Ec2RegionSettings] => [region, {
    subnets: r.subnets,
    imageId: r.image ?? null,
    launchTemplate: r.launchTemplate ?? null,
    launchTemplateVersion: r.launchTemplateVersion ?? null,
    instanceProfile: r.instanceProfile ?? null,
    securityGroupIds: r.securityGroups ?? [],
    keyName: r.keyName ?? null,
    placementGroup: r.placementGroup ?? null
  }])),
  checkpoints: { uri: aws.checkpoints.uri, region: aws.checkpoints.region, kmsKeyId: aws.checkpoints.kmsKeyId ?? null },
  setupCommands: aws.setup ?? [],
  pollSeconds: aws.pollSeconds,
  rendezvousPort: aws.rendezvousPort
})

/** Where each environment variable lands in the profile's `aws` section (for error messages). */
const VARIABLE_OF: ReadonlyArray<readonly [RegExp, string]> = [
  [/^regions\.[^.]+\.subnets/, "FRUGAL_EC2_SUBNETS"],
  [/^regions\.[^.]+\.image$/, "FRUGAL_EC2_AMI"],
  [/^regions\.[^.]+\.launchTemplate$/, "FRUGAL_EC2_LAUNCH_TEMPLATE"],
  [/^regions\.[^.]+\.launchTemplateVersion$/, "FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION"],
  [/^regions\.[^.]+\.instanceProfile$/, "FRUGAL_EC2_INSTANCE_PROFILE"],
  [/^regions\.[^.]+\.securityGroups/, "FRUGAL_EC2_SECURITY_GROUPS"],
  [/^regions\.[^.]+\.keyName$/, "FRUGAL_EC2_KEY_NAME"],
  [/^regions\.[^.]+\.placementGroup$/, "FRUGAL_EC2_PLACEMENT_GROUP"],
  [/^regions/, "FRUGAL_EC2_REGION"],
  [/^checkpoints\.uri$/, "FRUGAL_EC2_CHECKPOINT_URI"],
  [/^checkpoints\.region$/, "FRUGAL_EC2_CHECKPOINT_REGION"],
  [/^checkpoints\.kmsKeyId$/, "FRUGAL_EC2_KMS_KEY"],
  [/^checkpoints/, "FRUGAL_EC2_CHECKPOINT_URI"],
  [/^setup/, "FRUGAL_EC2_SETUP"],
  [/^pollSeconds$/, "FRUGAL_EC2_POLL_SECONDS"],
  [/^rendezvousPort$/, "FRUGAL_EC2_RENDEZVOUS_PORT"]
]

const variableOf = (path: string): string => VARIABLE_OF.find(([pattern]) => pattern.test(path))?.[1] ?? "FRUGAL_EC2_*"

const text = (env: Readonly<Record<string, string | undefined>>, name: string): string | undefined => {
  const value = env[name]?.trim()
  return value === undefined || value === "" ? undefined : value
}

const list = (value: string | undefined): ReadonlyArray<string> | undefined =>
  value === undefined ? undefined : value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")

/** Whether any FRUGAL_EC2_* variable is set. */
export const hasEc2Environment = (env: Readonly<Record<string, string | undefined>>): boolean =>
  Object.keys(env).some((name) => name.startsWith("FRUGAL_EC2_") && text(env, name) !== undefined)

/**
 * The profile's `aws` section with the environment's one-region overrides applied, decoded again by the profile's
 * Schema; null when neither says anything about EC2. Bad values fail naming the variable.
 */
export const ec2ProfileWithEnvironment = (
  profile: InfraProfile,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<AwsProfile | null, InvalidInput> =>
  Effect.suspend(() => {
    if (!hasEc2Environment(env)) return Effect.succeed(profile.aws ?? null)
    const region = text(env, "FRUGAL_EC2_REGION") ?? text(env, "AWS_REGION")
    const issues: Array<InputIssue> = []
    if (region === undefined) issues.push({ path: "FRUGAL_EC2_REGION", expected: "an AWS region (or AWS_REGION) for the FRUGAL_EC2_* settings" })
    const subnets: Record<string, string> = {}
    for (const entry of list(text(env, "FRUGAL_EC2_SUBNETS")) ?? []) {
      const [zone, subnet, ...rest] = entry.split("=").map((part) => part.trim())
      if (zone === undefined || subnet === undefined || rest.length > 0) {
        issues.push({ path: "FRUGAL_EC2_SUBNETS", expected: "AZ-ID=subnet-id pairs, comma-separated", actual: entry })
      } else subnets[zone] = subnet
    }
    if (issues.length > 0 || region === undefined) return Effect.fail(new InvalidInput({ source: "environment", issues }))
    const base = profile.aws
    const encoded = base === undefined ? undefined : Schema.encodeSync(AwsProfile)(base)
    const uri = text(env, "FRUGAL_EC2_CHECKPOINT_URI")
    const poll = text(env, "FRUGAL_EC2_POLL_SECONDS")
    const port = text(env, "FRUGAL_EC2_RENDEZVOUS_PORT")
    const setup = env["FRUGAL_EC2_SETUP"]
    const raw = {
      ...(encoded ?? {}),
      checkpoints: {
        ...(base?.checkpoints === undefined ? {} : { uri: base.checkpoints.uri, region: base.checkpoints.region }),
        ...(base?.checkpoints?.kmsKeyId === undefined ? {} : { kmsKeyId: base.checkpoints.kmsKeyId }),
        ...(uri === undefined ? {} : { uri, region: text(env, "FRUGAL_EC2_CHECKPOINT_REGION") ?? region }),
        ...(text(env, "FRUGAL_EC2_CHECKPOINT_REGION") === undefined ? {} : { region: text(env, "FRUGAL_EC2_CHECKPOINT_REGION") }),
        ...(text(env, "FRUGAL_EC2_KMS_KEY") === undefined ? {} : { kmsKeyId: text(env, "FRUGAL_EC2_KMS_KEY") })
      },
      regions: {
        ...encoded?.regions,
        [region]: {
          ...encoded?.regions[region],
          ...(Object.keys(subnets).length === 0 ? {} : { subnets }),
          ...(text(env, "FRUGAL_EC2_AMI") === undefined ? {} : { image: text(env, "FRUGAL_EC2_AMI") }),
          ...(text(env, "FRUGAL_EC2_LAUNCH_TEMPLATE") === undefined ? {} : { launchTemplate: text(env, "FRUGAL_EC2_LAUNCH_TEMPLATE") }),
          ...(text(env, "FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION") === undefined ? {} : { launchTemplateVersion: text(env, "FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION") }),
          ...(text(env, "FRUGAL_EC2_INSTANCE_PROFILE") === undefined ? {} : { instanceProfile: text(env, "FRUGAL_EC2_INSTANCE_PROFILE") }),
          ...(list(text(env, "FRUGAL_EC2_SECURITY_GROUPS")) === undefined ? {} : { securityGroups: list(text(env, "FRUGAL_EC2_SECURITY_GROUPS")) }),
          ...(text(env, "FRUGAL_EC2_KEY_NAME") === undefined ? {} : { keyName: text(env, "FRUGAL_EC2_KEY_NAME") }),
          ...(text(env, "FRUGAL_EC2_PLACEMENT_GROUP") === undefined ? {} : { placementGroup: text(env, "FRUGAL_EC2_PLACEMENT_GROUP") })
        }
      },
      ...(setup === undefined ? {} : { setup: setup.split("\n").filter((line) => line.trim() !== "") }),
      ...(poll === undefined ? {} : { pollSeconds: Number(poll) }),
      ...(port === undefined ? {} : { rendezvousPort: Number(port) })
    }
    const exit = Schema.decodeUnknownExit(AwsProfile)(raw, strictParseOptions)
    if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
    const error = Exit.findErrorOption(exit)
    const found = error._tag === "None" ? [] : inputIssuesFromSchemaIssue(error.value.issue)
    return Effect.fail(new InvalidInput({
      source: "environment",
      issues: (found.length > 0 ? found : [{ path: "", expected: "valid FRUGAL_EC2_* settings" }]).map((issue) => ({
        ...issue,
        path: variableOf(issue.path),
        expected: `${issue.expected}${issue.path === "" ? "" : ` (${issue.path})`}`
      }))
    }))
  })
