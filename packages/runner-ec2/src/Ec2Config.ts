/**
 * The EC2 engine's settings from the environment; credentials, profile and endpoint come the standard AWS way
 * (credential chain, `AWS_PROFILE`, `AWS_ENDPOINT_URL_EC2`).
 *
 * | variable | meaning |
 * |---|---|
 * | FRUGAL_EC2_REGION | region (default AWS_REGION) |
 * | FRUGAL_EC2_SUBNETS | AZ ID to subnet, `use1-az4=subnet-0abc,use1-az6=subnet-0def` (required) |
 * | FRUGAL_EC2_AMI | AMI id; or FRUGAL_EC2_LAUNCH_TEMPLATE (`lt-…` or a name) and FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION |
 * | FRUGAL_EC2_INSTANCE_PROFILE | instance profile ARN or name |
 * | FRUGAL_EC2_SECURITY_GROUPS | security group ids, comma-separated |
 * | FRUGAL_EC2_KEY_NAME | key pair name |
 * | FRUGAL_EC2_CHECKPOINT_URI | `s3://bucket/prefix` or `efs://fs-0123/path` (required) |
 * | FRUGAL_EC2_SETUP | shell lines run first on the instance (fetch the code), separated by newlines |
 * | FRUGAL_EC2_POLL_SECONDS | seconds between DescribeInstances calls (15) |
 * | FRUGAL_EC2_PLACEMENT_GROUP | existing cluster placement group for multi-node attempts |
 * | FRUGAL_EC2_RENDEZVOUS_PORT | torchrun c10d rendezvous port on node 0 (29400) |
 */
import { Effect } from "effect"
import { InvalidInput } from "@frugal/core"
import type { Ec2Settings } from "./Ec2Runner.ts"

export const ec2SettingsFromEnvironment = (env: NodeJS.ProcessEnv): Effect.Effect<Ec2Settings, InvalidInput> =>
  Effect.gen(function*() {
    const issues: Array<{ path: string; expected: string; actual?: string }> = []
    const text = (name: string): string | null => {
      const value = env[name]?.trim()
      return value === undefined || value === "" ? null : value
    }
    const region = text("FRUGAL_EC2_REGION") ?? text("AWS_REGION")
    if (region === null) issues.push({ path: "FRUGAL_EC2_REGION", expected: "an AWS region (or AWS_REGION)" })
    const subnets: Record<string, string> = {}
    for (const entry of (text("FRUGAL_EC2_SUBNETS") ?? "").split(",").filter((e) => e.trim() !== "")) {
      const [zone, subnet] = entry.split("=").map((part) => part.trim())
      if (zone === undefined || subnet === undefined || !/^subnet-[0-9a-f]+$/.test(subnet)) {
        issues.push({ path: "FRUGAL_EC2_SUBNETS", expected: "AZ-ID=subnet-id pairs, comma-separated", actual: entry })
      } else subnets[zone] = subnet
    }
    if (Object.keys(subnets).length === 0 && text("FRUGAL_EC2_SUBNETS") === null) {
      issues.push({ path: "FRUGAL_EC2_SUBNETS", expected: "AZ-ID=subnet-id pairs, comma-separated" })
    }
    const imageId = text("FRUGAL_EC2_AMI")
    const launchTemplate = text("FRUGAL_EC2_LAUNCH_TEMPLATE")
    if (imageId === null && launchTemplate === null) {
      issues.push({ path: "FRUGAL_EC2_AMI", expected: "an AMI id, or FRUGAL_EC2_LAUNCH_TEMPLATE" })
    }
    const checkpointUri = text("FRUGAL_EC2_CHECKPOINT_URI")
    if (checkpointUri === null || !/^(s3:\/\/[^/]+|efs:\/\/fs-[0-9a-f]+)(\/.*)?$/.test(checkpointUri)) {
      issues.push({
        path: "FRUGAL_EC2_CHECKPOINT_URI",
        expected: "s3://bucket/prefix or efs://fs-id/path",
        ...(checkpointUri === null ? {} : { actual: checkpointUri })
      })
    }
    const poll = Number(text("FRUGAL_EC2_POLL_SECONDS") ?? "15")
    const port = Number(text("FRUGAL_EC2_RENDEZVOUS_PORT") ?? "29400")
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      issues.push({ path: "FRUGAL_EC2_RENDEZVOUS_PORT", expected: "a TCP port (1-65535)", actual: String(text("FRUGAL_EC2_RENDEZVOUS_PORT")) })
    }
    if (!(poll > 0)) issues.push({ path: "FRUGAL_EC2_POLL_SECONDS", expected: "a positive number of seconds", actual: String(poll) })
    if (issues.length > 0 || region === null || checkpointUri === null) return yield* new InvalidInput({ source: "environment", issues })
    return {
      region,
      subnets,
      imageId,
      launchTemplate,
      launchTemplateVersion: text("FRUGAL_EC2_LAUNCH_TEMPLATE_VERSION"),
      instanceProfile: text("FRUGAL_EC2_INSTANCE_PROFILE"),
      securityGroupIds: (text("FRUGAL_EC2_SECURITY_GROUPS") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
      keyName: text("FRUGAL_EC2_KEY_NAME"),
      checkpointUri,
      setupCommands: (env["FRUGAL_EC2_SETUP"] ?? "").split("\n").filter((line) => line.trim() !== ""),
      pollSeconds: poll,
      placementGroup: text("FRUGAL_EC2_PLACEMENT_GROUP"),
      rendezvousPort: port
    }
  })
