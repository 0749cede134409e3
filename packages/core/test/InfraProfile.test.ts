import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { decodeInfraProfile, instanceTypeAllowed, type InfraProfile, type InvalidInput } from "../src/index.ts"
import { infraProfileJsonSchemaText } from "../src/InfraProfileJsonSchema.ts"

const committed = fileURLToPath(new URL("../../../docs/infra.schema.json", import.meta.url))

const GOOD = `
aws:
  checkpoints: { uri: s3://acme-ckpt/frugal, region: us-east-1, kmsKeyId: alias/frugal }
  instanceTypes: [p5.48xlarge, "g6e.*"]
  regions:
    us-east-1:
      subnets: { use1-az4: subnet-0abc1234, use1-az6: subnet-0def5678 }
      image: ami-0123456789abcdef0
      securityGroups: [sg-0123abcd]
      instanceProfile: frugal-node
slurm:
  - { name: lab, partitions: [{ name: gpu, accelerator: A100-80GB, gpusPerNode: 8, nodes: 4, hourlyPriceUsd: 9.5 }] }
kubernetes:
  - name: prod
    context: prod-eks
    namespace: ml
    pools: [{ name: h100-spot, accelerator: H100, gpusPerNode: 8, capacityType: spot, zone: use1-az4, hourlyPriceUsd: 30 }]
local: { hourlyPriceUsd: 0.5 }
`

const decode = (text: string) => Effect.runSync(Effect.exit(decodeInfraProfile(text, "infra.yaml")))

const issuesOf = (text: string): ReadonlyArray<{ readonly path: string; readonly expected: string }> => {
  const exit = decode(text)
  if (Exit.isSuccess(exit)) return assert.fail("expected the profile to be refused")
  const error = Exit.findErrorOption(exit)
  if (error._tag === "None") return assert.fail("expected InvalidInput")
  return (error.value as InvalidInput).issues
}

describe("infrastructure profile", () => {
  it("decodes the profile of ARCHITECTURE.md with its defaults", () => {
    const exit = decode(GOOD)
    assert.isTrue(Exit.isSuccess(exit))
    const profile = Exit.isSuccess(exit) ? exit.value : ({} as InfraProfile)
    assert.strictEqual(profile.aws?.regions["us-east-1"]?.subnets["use1-az4"], "subnet-0abc1234")
    assert.strictEqual(profile.aws?.pollSeconds, 15)
    assert.strictEqual(profile.slurm?.[0]?.partitions[0]?.preemptible, false)
    assert.strictEqual(profile.kubernetes?.[0]?.capacityLabel, "karpenter")
    assert.strictEqual(profile.kubernetes?.[0]?.pools[0]?.maxNodes, 64)
    assert.strictEqual(profile.local?.hourlyPriceUsd, 0.5)
  })

  it("names each bad field with its path and what was expected", () => {
    const issues = issuesOf(`
aws:
  checkpoints: { uri: "http://bucket", region: us-east-1 }
  regions:
    us-east-1:
      subnets: { us-east-1a: subnet-0abc1234 }
      image: ami-0123456789abcdef0
slurm:
  - { name: lab, partitions: [{ name: gpu, gpusPerNode: -1, nodes: 4, hourlyPriceUsd: 9.5 }] }
`)
    const paths = issues.map((issue) => issue.path)
    assert.include(paths, "aws.checkpoints.uri")
    assert.isTrue(paths.some((path) => path.startsWith("aws.regions.us-east-1.subnets")))
    assert.include(paths, "slurm[0].partitions[0].gpusPerNode")
  })

  it("says an AZ ID was expected where a profile keys subnets or zone names by zone name, and how to find it", () => {
    const issues = issuesOf(`
aws:
  regions:
    us-east-1:
      subnets: { us-east-1a: subnet-0abc1234 }
      image: ami-0123456789abcdef0
kubernetes:
  - { name: prod, zoneNames: { us-east-1b: us-east-1b } }
`)
    const subnet = issues.find((issue) => issue.path === "aws.regions.us-east-1.subnets.us-east-1a")
    assert.include(subnet?.expected, "an AZ ID like use1-az4")
    assert.include(subnet?.expected, "aws ec2 describe-availability-zones")
    assert.notInclude(subnet?.expected, "no field here")
    // The key is what is wrong, so the key is what the message shows.
    assert.strictEqual((subnet as { readonly actual?: string } | undefined)?.actual, '"us-east-1a"')
    const zoneName = issues.find((issue) => issue.path === "kubernetes[0].zoneNames.us-east-1b")
    assert.include(zoneName?.expected, "an AZ ID like use1-az4")
  })

  it("says an AWS region was expected where a profile keys regions by something else", () => {
    const issues = issuesOf("aws: { regions: { us-east-1a: { subnets: { use1-az4: subnet-0abc1234 }, image: ami-0123456789abcdef0 } } }")
    const region = issues.find((issue) => issue.path === "aws.regions.us-east-1a")
    assert.include(region?.expected, "an AWS region code like us-east-1")
  })

  it("refuses a region without an image or launch template, naming the field", () => {
    const issues = issuesOf("aws: { checkpoints: { uri: s3://acme-ckpt, region: us-east-1 }, regions: { us-east-1: { subnets: { use1-az4: subnet-0abc1234 } } } }")
    assert.isTrue(issues.some((issue) => issue.path === "aws.regions.us-east-1.image"))
  })

  it("refuses unknown keys and repeated names", () => {
    assert.include(issuesOf("local: { hourlyPriceUsd: 1, gpu: 2 }").map((issue) => issue.path), "local.gpu")
    const repeated = issuesOf(`
slurm:
  - { name: lab, partitions: [{ name: gpu, nodes: 1, hourlyPriceUsd: 1 }, { name: gpu, nodes: 1, hourlyPriceUsd: 1 }] }
`)
    assert.include(repeated.map((issue) => issue.path), "slurm[0].partitions[1].name")
  })

  it("admits no character that could start a command in any value that reaches generated text", () => {
    const hostile = ["a\nb", "a\rb", "a'b", "a\"b", "$(touch x)", "`id`", "a b", "a;b", "a#b", "a\u0000b", "x".repeat(65_536)]
    for (const value of hostile) {
      const json = JSON.stringify(value)
      const cases = [
        `{ "aws": { "checkpoints": { "uri": ${JSON.stringify(`s3://acme-ckpt/${value}`)}, "region": "us-east-1" }, "regions": { "us-east-1": { "subnets": { "use1-az4": "subnet-0abc1234" }, "image": "ami-0123456789abcdef0" } } } }`,
        `{ "aws": { "checkpoints": { "uri": "s3://acme-ckpt", "region": "us-east-1", "kmsKeyId": ${json} }, "regions": { "us-east-1": { "subnets": { "use1-az4": "subnet-0abc1234" }, "image": "ami-0123456789abcdef0", "instanceProfile": ${json} } } } }`,
        `{ "slurm": [{ "name": ${json}, "outputDirectory": ${JSON.stringify(`/shared/${value}`)}, "partitions": [{ "name": ${json}, "nodes": 1, "hourlyPriceUsd": 1, "account": ${json} }] }] }`,
        `{ "kubernetes": [{ "name": "prod", "namespace": ${json}, "image": ${json}, "context": ${json}, "pools": [{ "name": ${json}, "capacityType": "spot", "hourlyPriceUsd": 1 }] }] }`
      ]
      for (const text of cases) assert.isFalse(Exit.isSuccess(decode(text)), `accepted ${JSON.stringify(value).slice(0, 40)} in ${text.slice(0, 60)}`)
    }
  })

  it("reads instance type globs as an allow-list", () => {
    const profile: InfraProfile = {
      aws: {
        checkpoints: { uri: "s3://acme-ckpt", region: "us-east-1" },
        instanceTypes: ["p5.48xlarge", "g6e.*"],
        regions: {},
        pollSeconds: 15,
        rendezvousPort: 29400
      }
    }
    assert.isTrue(instanceTypeAllowed(profile, "g6e.12xlarge"))
    assert.isTrue(instanceTypeAllowed(profile, "p5.48xlarge"))
    assert.isFalse(instanceTypeAllowed(profile, "p5en.48xlarge"))
    assert.isTrue(instanceTypeAllowed({}, "p5en.48xlarge"))
  })

  it("has a current JSON Schema in docs/infra.schema.json (run scripts/generate-infra-schema.ts)", () => {
    assert.strictEqual(readFileSync(committed, "utf8"), infraProfileJsonSchemaText())
  })
})
