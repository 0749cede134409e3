/**
 * examples/infra/team.yaml, the profile docs/infra.md and docs/launch.md walk through: it decodes, every placement
 * `frugal plan --infra` ranks over it is one the profile can launch (a profile region, a zone with a subnet, an
 * allowed instance type, or one of its clusters' partitions and pools within their node counts and at their price),
 * and each cluster engine's dry run asks for what the docs say it asks for.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { decodeInfraProfile, instanceTypeAllowed } from "@frugal/core"
import { example, runFrugal } from "./support/frugalCli.ts"

const profilePath = example("infra/team.yaml")
const profile = Effect.runSync(decodeInfraProfile(readFileSync(profilePath, "utf8"), profilePath))
const home = mkdtempSync(join(tmpdir(), "frugal-infra-example-"))
// No ledger (so no calibration) and no default profile but the one named.
const env = { FRUGAL_HOME: home, FRUGAL_INFRA: "", XDG_CONFIG_HOME: join(home, "config") }

afterAll(() => rmSync(home, { recursive: true, force: true }))

interface PlanOption {
  readonly instanceType: string
  readonly gpu: string | null
  readonly gpusPerInstance: number
  readonly instanceCount: number
  readonly region: string
  readonly availabilityZone: string | null
  readonly purchaseOption: string
  readonly hourlyPriceUsd: number
  readonly meetsDeadline: boolean
  readonly interruptionRisk: { readonly label: string; readonly interruptionsPerHour: number } | null
  readonly capacityRisk: { readonly obtainProbability: number; readonly basis: string }
}

/** Why the profile cannot launch an option, or null when it can. */
const notLaunchable = (option: PlanOption): string | null => {
  const cluster = /^(slurm|kubernetes):([^/]+)\/(.+)$/.exec(option.instanceType)
  if (cluster !== null) {
    const [, engine, clusterName, poolName] = cluster
    if (engine === "slurm") {
      const found = profile.slurm?.find((c) => c.name === clusterName)
      const partition = found?.partitions.find((p) => p.name === poolName)
      if (found === undefined || partition === undefined) return "no such Slurm partition"
      if (option.region !== (found.region ?? `slurm:${found.name}`)) return `region ${option.region}`
      if (option.gpu !== partition.accelerator || option.gpusPerInstance !== partition.gpusPerNode) return "another GPU shape"
      if (option.instanceCount > partition.nodes) return `${option.instanceCount} nodes of ${partition.nodes}`
      if (option.purchaseOption !== (partition.preemptible ? "spot" : "on-demand")) return option.purchaseOption
      return option.hourlyPriceUsd === partition.hourlyPriceUsd ? null : `price ${option.hourlyPriceUsd}`
    }
    const found = profile.kubernetes?.find((c) => c.name === clusterName)
    const pool = found?.pools.find((p) => p.name === poolName)
    if (found === undefined || pool === undefined) return "no such Kubernetes pool"
    if (option.region !== found.region) return `region ${option.region}`
    if (option.availabilityZone !== null && option.availabilityZone !== pool.zone) return `zone ${option.availabilityZone}`
    if (option.gpu !== pool.accelerator || option.gpusPerInstance !== pool.gpusPerNode) return "another GPU shape"
    if (option.instanceCount > pool.maxNodes) return `${option.instanceCount} nodes of ${pool.maxNodes}`
    if (option.purchaseOption !== pool.capacityType) return option.purchaseOption
    return option.hourlyPriceUsd === pool.hourlyPriceUsd ? null : `price ${option.hourlyPriceUsd}`
  }
  const region = profile.aws?.regions[option.region]
  if (region === undefined) return `region ${option.region} is not in the profile`
  if (!instanceTypeAllowed(profile, option.instanceType)) return "instance type not allowed"
  if (option.availabilityZone !== null && region.subnets[option.availabilityZone] === undefined) return `no subnet in ${option.availabilityZone}`
  if (option.purchaseOption === "spot" && option.availabilityZone === null) return "spot without a zone"
  return null
}

describe("examples/infra/team.yaml", () => {
  it("decodes: two AWS regions with subnets per AZ ID, a Slurm cluster with two partitions, a spot and an on-demand Kubernetes pool", () => {
    expect(Object.keys(profile.aws?.regions ?? {}).sort()).toEqual(["us-east-1", "us-west-2"])
    expect(Object.keys(profile.aws?.regions["us-east-1"]?.subnets ?? {}).sort()).toEqual(["use1-az2", "use1-az4", "use1-az6"])
    expect(profile.aws?.checkpoints).toEqual({ uri: "s3://acme-ml-checkpoints/frugal", region: "us-east-1", kmsKeyId: "alias/frugal-checkpoints" })
    expect(profile.slurm?.map((c) => [c.name, c.partitions.map((p) => [p.name, p.preemptible])])).toEqual([
      ["lab", [["a100", false], ["h100-scavenger", true]]]
    ])
    expect(profile.kubernetes?.[0]?.pools.map((p) => [p.name, p.capacityType])).toEqual([["h100-spot", "spot"], ["h100-on-demand", "on-demand"]])
    expect(profile.local).toEqual({ hourlyPriceUsd: 0.5 })
  })

  it("frugal plan --infra ranks only placements the profile can launch, EC2 and both clusters among them", async () => {
    const run = await runFrugal(["plan", example("llama-7b-finetune.yaml"), "--infra", profilePath, "--json", "--top", "1000"], { env })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const plan = JSON.parse(run.stdout) as { readonly options: ReadonlyArray<PlanOption> }
    expect(plan.options.length).toBeGreaterThan(20)
    expect(plan.options.flatMap((option) => {
      const why = notLaunchable(option)
      return why === null ? [] : [`${option.instanceCount} × ${option.instanceType} ${option.purchaseOption} in ${option.availabilityZone ?? option.region}: ${why}`]
    })).toEqual([])
    const meeting = plan.options.filter((option) => option.meetsDeadline)
    const kinds = new Set(meeting.map((option) => /^(slurm|kubernetes):/.exec(option.instanceType)?.[1] ?? "ec2"))
    expect([...kinds].sort()).toEqual(["ec2", "kubernetes", "slurm"])
    // The recommendation is the scavenger partition at the 0.1 pre-emptions per node-hour the profile states, on the
    // fewest nodes that meet the deadline (3 of its 4: 2 miss it by their pre-emptions), as docs/launch.md shows.
    expect(plan.options[0]).toMatchObject({ instanceType: "slurm:lab/h100-scavenger", instanceCount: 3, purchaseOption: "spot", meetsDeadline: true })
    expect(plan.options[0]?.interruptionRisk).toMatchObject({ label: "stated 0.1/h", interruptionsPerHour: 0.3 })
    expect(plan.options.find((option) => option.instanceType === "slurm:lab/h100-scavenger" && option.instanceCount === 2)?.meetsDeadline).toBe(false)
    // Cluster capacity is taken as stated, in either market; EC2 stays under its priors; a pool stating no rate is unknown.
    for (const option of plan.options.filter((o) => o.instanceType.includes(":"))) {
      expect(option.capacityRisk).toEqual(expect.objectContaining({ obtainProbability: 1, basis: "stated" }))
    }
    expect(plan.options.find((option) => option.instanceType === "kubernetes:prod/h100-spot")?.interruptionRisk?.label).toBe("unknown (assumed >20%)")
    expect(plan.options.find((option) => option.instanceType === "p5.48xlarge" && option.purchaseOption === "spot")).toMatchObject({ meetsDeadline: true })
  })

  it("on Slurm the first launch asks for the placement's partition, QoS, nodes, GPUs per node, requeue and a time limit", async () => {
    const run = await runFrugal(
      ["run", example("llama-7b-finetune.yaml"), "--infra", profilePath, "--runner", "slurm", "--dry-run", "--json", "--job-id", "ft-7b"],
      { env }
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const dry = JSON.parse(run.stdout) as {
      readonly placements: ReadonlyArray<{ readonly pool: string; readonly instanceCount: number }>
      readonly firstLaunch: { readonly engine: string; readonly script: string }
    }
    expect(dry.placements[0]).toMatchObject({ pool: "lab/h100-scavenger", instanceCount: 3 })
    // The failover order goes on to the on-demand partition, on the fewest nodes that meet the deadline first.
    expect(dry.placements.find((placement) => placement.pool === "lab/a100")).toMatchObject({ instanceCount: 7 })
    expect(dry.firstLaunch.engine).toBe("slurm")
    for (const directive of ["--partition=h100-scavenger", "--qos=scavenger", "--nodes=3", "--gpus-per-node=8", "--requeue"]) {
      expect(dry.firstLaunch.script).toContain(`#SBATCH ${directive}\n`)
    }
    const time = Number(/#SBATCH --time=(\d+)\n/.exec(dry.firstLaunch.script)?.[1])
    // The estimate (55.2 h with its pre-emptions) with its margin, never past the 72 h deadline.
    expect(time).toBeGreaterThan(55 * 60)
    expect(time).toBeLessThanOrEqual(72 * 60)
  })

  it("on Kubernetes the first launch is an Indexed Job of 2 pods with 8 GPUs each on the spot pool's nodes", async () => {
    const run = await runFrugal(
      ["run", example("llama-7b-finetune.yaml"), "--infra", profilePath, "--runner", "kubernetes", "--dry-run", "--json", "--job-id", "ft-7b"],
      { env }
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const dry = JSON.parse(run.stdout) as { readonly firstLaunch: { readonly request: ReadonlyArray<Record<string, unknown>> } }
    const job = dry.firstLaunch.request.find((manifest) => manifest["kind"] === "Job") as {
      readonly spec: {
        readonly completions: number
        readonly completionMode: string
        readonly template: {
          readonly spec: {
            readonly nodeSelector: Record<string, string>
            readonly containers: ReadonlyArray<{ readonly resources: { readonly limits: Record<string, string> } }>
          }
        }
      }
    }
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 2 })
    expect(job.spec.template.spec.nodeSelector).toEqual({
      "karpenter.sh/capacity-type": "spot",
      "topology.kubernetes.io/zone": "us-east-1a",
      "node.kubernetes.io/instance-type": "p5.48xlarge",
      "karpenter.k8s.aws/instance-gpu-name": "h100"
    })
    expect(job.spec.template.spec.containers[0]?.resources.limits["nvidia.com/gpu"]).toBe("8")
  })
})
