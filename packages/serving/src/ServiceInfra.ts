/**
 * What `service apply` needs from the infrastructure profile (ARCHITECTURE.md, "Infrastructure profile"): per AWS
 * region the subnets by AZ ID and the launch template (an Auto Scaling group with mixed instances launches from
 * one), security groups and instance profile; the first Kubernetes cluster's namespace. Other sections of the
 * profile are left to their owners and ignored here. Decoded with Schema; errors name the field.
 */
import { InvalidInput, inputIssuesFromSchemaIssue, strictParseOptions } from "@frugal/core"
import { Effect, Exit, Schema } from "effect"
import { parse as parseYaml } from "yaml"

const expecting = <S extends Schema.Top>(schema: S, expected: string): S["Rebuild"] => schema.annotate({ expected })

const Subnet = expecting(Schema.String.check(Schema.isPattern(/^subnet-[0-9a-f]{8,17}$/)), "a subnet id like subnet-0abc1234")
const ZoneId = expecting(Schema.String.check(Schema.isPattern(/^[a-z]{2,4}[0-9]-(az[0-9]+|[a-z]+[0-9]+-az[0-9]+)$/)), "an AZ ID like use1-az4")
const SecurityGroup = expecting(Schema.String.check(Schema.isPattern(/^sg-[0-9a-f]{8,17}$/)), "a security group id like sg-0123abcd")
const LaunchTemplate = expecting(
  Schema.String.check(Schema.isPattern(/^(lt-[0-9a-f]{8,17}|[A-Za-z0-9()./_-]{3,128})$/)),
  "a launch template id (lt-…) or name"
)
const Name = expecting(Schema.String.check(Schema.isPattern(/^[A-Za-z0-9+=,.@_-]{1,128}$|^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[A-Za-z0-9+=,.@_/-]{1,128}$/)), "an instance profile name or ARN")

export const AwsRegionInfra = Schema.Struct({
  subnets: expecting(Schema.Record(ZoneId, Subnet), "a mapping of AZ IDs to subnet ids"),
  launchTemplate: Schema.optionalKey(LaunchTemplate),
  launchTemplateVersion: Schema.optionalKey(expecting(Schema.String.check(Schema.isPattern(/^(\$Latest|\$Default|\d+)$/)), "$Latest, $Default or a version number")),
  image: Schema.optionalKey(expecting(Schema.String.check(Schema.isPattern(/^ami-[0-9a-f]{8,17}$/)), "an AMI id like ami-0123abcd")),
  securityGroups: Schema.optionalKey(Schema.Array(SecurityGroup)),
  instanceProfile: Schema.optionalKey(Name)
})
export type AwsRegionInfra = typeof AwsRegionInfra.Type

const KubernetesName = expecting(Schema.String.check(Schema.isPattern(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)), "a DNS label like ml")

export const ServiceInfra = Schema.Struct({
  aws: Schema.optionalKey(Schema.Struct({
    regions: Schema.optionalKey(Schema.Record(expecting(Schema.String.check(Schema.isPattern(/^[a-z]{2}(-gov)?-[a-z]+-\d{1,2}$/)), "an AWS region like us-east-1"), AwsRegionInfra))
  })),
  kubernetes: Schema.optionalKey(Schema.Array(Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    context: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(KubernetesName),
    /** The Karpenter EC2NodeClass the service's NodePools use (default `default`). */
    nodeClass: Schema.optionalKey(KubernetesName)
  })))
})
export type ServiceInfra = typeof ServiceInfra.Type

const decodeInfraValue = Schema.decodeUnknownExit(ServiceInfra)

/** The profile from YAML text; `source` names the file in errors. */
export const decodeServiceInfra = (text: string, source: string): Effect.Effect<ServiceInfra, InvalidInput> =>
  Effect.suspend(() => {
    let value: unknown
    try {
      value = parseYaml(text, { maxAliasCount: 100 })
    } catch (error) {
      return Effect.fail(new InvalidInput({ source, issues: [{ path: "", expected: "a YAML infrastructure profile", actual: error instanceof Error ? error.message.split("\n")[0] ?? "" : String(error) }] }))
    }
    const exit = decodeInfraValue(value ?? {}, { ...strictParseOptions, onExcessProperty: "ignore" })
    if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
    const error = Exit.findErrorOption(exit)
    const issues = error._tag === "Some" ? inputIssuesFromSchemaIssue(error.value.issue) : []
    return Effect.fail(new InvalidInput({ source, issues: issues.length > 0 ? issues : [{ path: "", expected: "an infrastructure profile" }] }))
  })
