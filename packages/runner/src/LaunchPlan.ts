/**
 * From a plan to what the engines launch: the plan's options, in its order, become the job's ranked placements
 * (the failover order), each on the engine that can launch it. Pure.
 *
 * - An EC2 option expands to every place the profile can launch it: a spot option to each zone of the profile's
 *   regions that offers the type on spot and has a subnet (its own zone first, then by price); an on-demand or
 *   commitment option to each zone with a subnet in its region (capacity errors are per zone, so the next zone of
 *   the same region is the cheapest failover), then to the other profile regions that offer it on-demand.
 * - A Slurm partition or Kubernetes pool of the profile (`slurm:lab/gpu`) is a placement on that engine.
 * - With no profile for the engine (`--runner slurm` with `FRUGAL_SLURM_*`), the plan's recommended GPU shape
 *   (GPUs per node, nodes) becomes one placement on the engine's cluster.
 * - `--runner local` with a plan (`--policy`): attempts run here but are charged at the plan's prices.
 * Placements above an account quota (per region and market) are left out: a run never asks for more than the quota.
 * All placements are then ordered: meeting the deadline first, cheapest expected cost first, the plan's order last.
 */
import { acceleratorByName, checkpointBytes, estimatePlacement, type InfraProfile, type Workload } from "@frugal/core"
import { DEFAULT_COST_ASSUMPTIONS, type OnlinePolicyName, type Plan, type PlacementOption } from "@frugal/planner"
import { type Catalog, type Ec2Quota, parseClusterInstanceType, quotaNeed } from "@frugal/pricing"
import type { JobPolicy, RankedPlacement } from "./LaunchPolicy.ts"
import { type EngineName, type Placement, poolKey } from "./Placement.ts"

/** A cluster engine configured without a profile entry: its capacity takes the plan's GPU shape. */
export interface UnprofiledCluster {
  readonly engine: "slurm" | "kubernetes"
  /** `env/<partition>` or `env/<namespace>`. */
  readonly pool: string
  /** What the placement is called (`gpu` partition, `kubernetes:ml`). */
  readonly instanceType: string
  /** USD per node-hour (`--price-per-hour`, else 0). */
  readonly hourlyPriceUsd: number
  /** Overrides of the plan's shape (FRUGAL_SLURM_NODES, FRUGAL_SLURM_GPUS_PER_NODE …). */
  readonly nodes: number | null
  readonly gpusPerNode: number | null
  /** Kubernetes: the capacity type asked for (spot unless the workload is not interruptible). */
  readonly capacityType?: "spot" | "on-demand"
}

export interface LaunchPlanInput {
  readonly plan: Plan
  /** The catalog the plan was made over (held to the profile), for the zones of each type. */
  readonly catalog: Catalog
  readonly profile: InfraProfile
  /** The engines the job may use; `--runner` narrows it to one. */
  readonly engines: ReadonlyArray<EngineName>
  /** Cluster engines without a profile entry. */
  readonly unprofiled?: ReadonlyArray<UnprofiledCluster>
  /** The account's EC2 vCPU quotas: an EC2 placement above its region's quota is left out. */
  readonly quotas?: ReadonlyArray<Ec2Quota>
  /**
   * The workload the plan was made for: where an unprofiled cluster's environment overrides the plan's GPU shape
   * (FRUGAL_SLURM_NODES=1 for a 2-node plan), its hours are estimated again for the shape that really runs.
   */
  readonly workload?: Workload
}

export interface LaunchPlan {
  readonly placements: ReadonlyArray<RankedPlacement>
  /** Plan options no engine here can launch, with why: for `--dry-run` and errors. */
  readonly excluded: ReadonlyArray<{ readonly option: string; readonly why: string }>
}

const optionName = (option: PlacementOption): string =>
  `${option.instanceCount} × ${option.instanceType} ${option.purchaseOption} in ${option.availabilityZone ?? option.region}`

const interruptionsPerHour = (option: PlacementOption): number =>
  option.purchaseOption === "spot" ? option.interruptionRisk?.interruptionsPerHour ?? 0 : 0

const basePlacement = (option: PlacementOption, runner: EngineName): Placement => ({
  runner,
  pool: null,
  instanceType: option.instanceType,
  region: option.region,
  availabilityZone: option.availabilityZone,
  purchaseOption: option.purchaseOption,
  hourlyPriceUsd: option.hourlyPriceUsd,
  instanceCount: option.instanceCount,
  accelerator: option.gpu,
  acceleratorsPerInstance: option.gpusPerInstance,
  interruptionsPerHour: interruptionsPerHour(option)
})

const ranked = (option: PlacementOption, placement: Placement): RankedPlacement => ({
  placement,
  baseHours: option.baseHours,
  expectedHours: option.expectedHours,
  ...(option.launchHours === null ? {} : { launchHours: option.launchHours }),
  // The same hours at this placement's price; transfer as the plan priced it.
  expectedCostUsd: option.hourlyPriceUsd > 0
    ? (option.expectedCostUsd - option.transferCostUsd) * (placement.hourlyPriceUsd / option.hourlyPriceUsd) + option.transferCostUsd
    : option.expectedCostUsd
})

/** Every EC2 pool the profile can launch an option in. */
const ec2Placements = (option: PlacementOption, catalog: Catalog, profile: InfraProfile): ReadonlyArray<RankedPlacement> => {
  const aws = profile.aws
  if (aws === undefined) return []
  const base = basePlacement(option, "ec2")
  if (option.purchaseOption === "spot") {
    const zones = catalog.offers
      .filter((offer) =>
        offer.instanceType === option.instanceType && offer.purchaseOption === "spot" && offer.availabilityZone !== null &&
        aws.regions[offer.region]?.subnets[offer.availabilityZone] !== undefined
      )
      .sort((a, b) =>
        Number(b.availabilityZone === option.availabilityZone && b.region === option.region) -
          Number(a.availabilityZone === option.availabilityZone && a.region === option.region) ||
        a.hourlyPriceUsd - b.hourlyPriceUsd || (a.availabilityZone ?? "").localeCompare(b.availabilityZone ?? "")
      )
    const own = zones.length === 0 && option.availabilityZone !== null && aws.regions[option.region]?.subnets[option.availabilityZone] !== undefined
      ? [ranked(option, base)]
      : []
    return [
      ...own,
      ...zones.map((offer) =>
        ranked(option, { ...base, region: offer.region, availabilityZone: offer.availabilityZone, hourlyPriceUsd: offer.hourlyPriceUsd })
      )
    ]
  }
  // On-demand and commitments (a commitment pays for on-demand instances): every zone with a subnet, this region first.
  const regions = [
    option.region,
    ...(option.purchaseOption === "on-demand"
      ? catalog.offers
        .filter((offer) => offer.instanceType === option.instanceType && offer.purchaseOption === "on-demand" && offer.region !== option.region)
        .sort((a, b) => a.hourlyPriceUsd - b.hourlyPriceUsd || a.region.localeCompare(b.region))
        .map((offer) => offer.region)
      : [])
  ]
  return [...new Set(regions)].flatMap((region) => {
    const price = region === option.region
      ? option.hourlyPriceUsd
      : catalog.offers.find((offer) => offer.instanceType === option.instanceType && offer.purchaseOption === "on-demand" && offer.region === region)
        ?.hourlyPriceUsd
    const subnets = Object.keys(aws.regions[region]?.subnets ?? {}).sort()
    return price === undefined ? [] : subnets.map((zone) => ranked(option, { ...base, region, availabilityZone: zone, hourlyPriceUsd: price }))
  })
}

/**
 * The plan's hours for the option, on `gpus` GPUs instead of the option's own: scaled by core's estimate on each
 * (so a calibration the plan applied carries over); unchanged for the option's own count or where nothing estimates.
 */
const hoursOnGpus = (option: PlacementOption, gpus: number, workload: Workload | undefined): number => {
  const planned = option.instanceCount * option.gpusPerInstance
  const spec = acceleratorByName(option.gpu)
  if (workload === undefined || spec === undefined || gpus === planned || gpus < 1 || planned < 1) return option.baseHours
  const ratio = estimatePlacement(workload, spec, gpus).hours / estimatePlacement(workload, spec, planned).hours
  return Number.isFinite(ratio) && ratio > 0 ? option.baseHours * ratio : option.baseHours
}

/** A plan option on an engine configured only by the environment: the plan's GPU shape on that cluster. */
const unprofiledPlacement = (option: PlacementOption, cluster: UnprofiledCluster, workload: Workload | undefined): RankedPlacement => {
  const gpusPerNode = cluster.gpusPerNode ?? option.gpusPerInstance
  const nodes = cluster.nodes ?? option.instanceCount
  const hours = hoursOnGpus(option, nodes * gpusPerNode, workload)
  const purchaseOption = cluster.engine === "kubernetes" ? cluster.capacityType ?? "on-demand" : "on-demand"
  return {
    placement: {
      runner: cluster.engine,
      pool: cluster.pool,
      instanceType: cluster.instanceType,
      region: cluster.engine,
      availabilityZone: null,
      purchaseOption,
      hourlyPriceUsd: cluster.hourlyPriceUsd,
      instanceCount: nodes,
      accelerator: gpusPerNode > 0 ? option.gpu : null,
      acceleratorsPerInstance: gpusPerNode,
      interruptionsPerHour: 0
    },
    baseHours: hours,
    expectedHours: hours,
    expectedCostUsd: hours * nodes * cluster.hourlyPriceUsd
  }
}

/** The job's ranked placements from its plan. */
export const launchPlan = (input: LaunchPlanInput): LaunchPlan => {
  const { plan, catalog, profile, engines } = input
  const allowed = new Set(engines)
  const out: Array<{ readonly entry: RankedPlacement; readonly meets: boolean; readonly order: number }> = []
  const excluded: Array<{ readonly option: string; readonly why: string }> = []
  const vcpus = new Map(catalog.instanceTypes.map((type) => [type.name, type.vcpus]))
  /** The quota a placement would break, or null: checked per placement, since quotas are per region and market. */
  const aboveQuota = (placement: Placement) => {
    const perInstance = vcpus.get(placement.instanceType)
    if (input.quotas === undefined || perInstance === undefined) return null
    const need = quotaNeed(input.quotas, {
      instanceType: placement.instanceType,
      region: placement.region,
      market: placement.purchaseOption === "spot" ? "spot" : "on-demand",
      instances: placement.instanceCount,
      vcpusPerInstance: perInstance
    })
    return need === null || need.fits ? null : need
  }
  plan.options.forEach((option, order) => {
    const add = (entries: ReadonlyArray<RankedPlacement>) => {
      for (const entry of entries) {
        const quota = entry.placement.runner === "ec2" ? aboveQuota(entry.placement) : null
        if (quota !== null) {
          excluded.push({
            option: `${optionName(option)} → ${entry.placement.availabilityZone ?? entry.placement.region}`,
            why: `above quota ${quota.code} (${quota.name}: ${quota.limitVcpus} vCPUs in ${entry.placement.region}, needs ${quota.neededVcpus})`
          })
          continue
        }
        out.push({ entry, meets: option.meetsDeadline && option.withinBudget, order })
      }
    }
    const cluster = parseClusterInstanceType(option.instanceType)
    if (cluster !== null) {
      if (!allowed.has(cluster.engine)) return excluded.push({ option: optionName(option), why: `the ${cluster.engine} engine is not in use` })
      // A pool's zone is the profile's (the plan gives zones to spot offers only).
      const zone = cluster.engine === "kubernetes"
        ? profile.kubernetes?.find((c) => c.name === cluster.cluster)?.pools.find((p) => p.name === cluster.pool)?.zone ?? option.availabilityZone
        : option.availabilityZone
      return add([ranked(option, { ...basePlacement(option, cluster.engine), availabilityZone: zone, pool: `${cluster.cluster}/${cluster.pool}` })])
    }
    if (allowed.has("local") && engines.length === 1) {
      // Runs here, charged as the plan's placement; the accelerator stays unknown (this machine's steps are not the GPU's).
      return add([ranked(option, { ...basePlacement(option, "local"), availabilityZone: option.purchaseOption === "spot" ? option.availabilityZone : null, accelerator: null, acceleratorsPerInstance: 0 })])
    }
    if (allowed.has("ec2")) {
      const pools = ec2Placements(option, catalog, profile)
      if (pools.length === 0) excluded.push({ option: optionName(option), why: "no subnet in the profile for it" })
      add(pools)
    }
    for (const unprofiled of input.unprofiled ?? []) {
      if (allowed.has(unprofiled.engine)) add([unprofiledPlacement(option, unprofiled, input.workload)])
    }
  })
  out.sort((a, b) => Number(b.meets) - Number(a.meets) || a.entry.expectedCostUsd - b.entry.expectedCostUsd || a.order - b.order)
  const seen = new Set<string>()
  const placements = out.map((item) => item.entry).filter((entry) => {
    const key = `${poolKey(entry.placement)}|${entry.placement.instanceCount}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return { placements, excluded }
}

/** Steps of the whole run, as the reference trainer counts them (tokens ÷ tokens per step); 0 when unknown. */
export const workloadSteps = (workload: Workload): number =>
  workload.kind === "training"
    ? Math.max(1, Math.ceil(workload.training.tokens / (workload.training.microBatchSize * workload.training.sequenceLength)))
    : 0

export interface JobPolicyOptions {
  readonly policy: OnlinePolicyName
  /** Minutes a pool is set aside after a failed launch or a reclaim (default 30). */
  readonly coolDownMinutes?: number
  /** Hours a policy's wait lasts before it is asked again (default 0.25). */
  readonly waitHours?: number
}

/** The job's policy: its ranked placements and the settings the choice needs. */
export const jobPolicy = (
  workload: Workload,
  plan: Plan,
  placements: readonly [RankedPlacement, ...Array<RankedPlacement>],
  profile: InfraProfile,
  options: JobPolicyOptions
): JobPolicy => {
  const usesEc2 = placements.some((entry) => entry.placement.runner === "ec2")
  return {
    policy: options.policy,
    placements,
    deadlineHours: workload.constraints.deadlineHours ?? null,
    changeoverHours: DEFAULT_COST_ASSUMPTIONS.restartHours,
    totalSteps: workloadSteps(workload),
    coolDownMinutes: options.coolDownMinutes ?? 30,
    waitHours: options.waitHours ?? 0.25,
    checkpointRegion: usesEc2 ? profile.aws?.checkpoints?.region ?? null : null,
    checkpointGB: workload.kind === "training" ? checkpointBytes(workload.model.parameters, workload.model.optimizer) / 1e9 : 0,
    catalog: `${plan.catalog.source} ${plan.catalog.asOf}`.trim(),
    ...(workload.kind === "inference" ? { service: true } : {})
  }
}
