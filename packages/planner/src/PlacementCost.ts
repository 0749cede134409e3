/**
 * What one placement costs: the pure arithmetic behind every option the planner ranks. Sources are cited above each
 * formula and collected in docs/planner.md.
 */
import {
  checkpointWriteHours,
  DEFAULT_CHECKPOINT_WRITE_GBPS,
  expectedOverheadFraction,
  HOURS_PER_MONTH,
  HOURS_PER_YEAR,
  baseWeightsBytes,
  modelShape,
  type PlacementEstimate,
  resumableStateBytes,
  type Workload,
  youngDalyIntervalHours
} from "@frugal/core"
import { jobMtbfHours, type SpotRisk } from "@frugal/pricing"
import type { CapacityBasis } from "./Capacity.ts"
import { spotJob } from "./SpotJob.ts"

/** Tunable assumptions of the cost model; every default is documented in docs/planner.md. */
export interface CostAssumptions {
  /**
   * Hours from a launch request until the process starts, on every attempt: capacity request, boot, container image
   * pull and process start-up. Default 10 minutes. Data download, model load and checkpoint read come on top
   * (`launchHours`).
   */
  readonly restartHours: number
  /**
   * GB/s one instance downloads the dataset and the pretrained weights at, from the data's region into `toRegion`.
   * Default `downloadGBps`.
   */
  readonly downloadGBps: (fromRegion: string, toRegion: string) => number
  /** Checkpoint write (and read) throughput per instance, GB/s. Default: core's measured torch.save figure. */
  readonly checkpointGBpsPerInstance: number
  /** A batch job's progress marker: what writing one costs, hours. Default 30 s. */
  readonly batchCheckpointWriteHours: number
  /** USD per GB moved into a region from the data's region; default `interRegionTransferUsdPerGB`. */
  readonly transferUsdPerGB: (fromRegion: string, toRegion: string) => number
}

/**
 * Inter-region transfer, USD per GB, charged by the region the data leaves: $0.02/GB out of US, Canada and Europe
 * regions to another region ("Data Transfer OUT From Amazon EC2 To … another AWS Region",
 * https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer; S3 bills the same rates). Other source regions charge
 * more (Asia Pacific, South America, Middle East and Africa list $0.08–$0.15): $0.09/GB is assumed for them.
 */
export const interRegionTransferUsdPerGB = (fromRegion: string, toRegion: string): number => {
  if (fromRegion === toRegion) return 0
  return /^(us|ca|eu)-/.test(fromRegion) ? 0.02 : 0.09
}

/**
 * Download throughput of one instance from S3, GB/s: 0.5 GB/s (4 Gbit/s) within a region, what one process with
 * parallel ranged GETs sustains on a GPU instance (S3 serves up to 100 Gbit/s per instance with enough connections,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html; a single copy tool reaches
 * a fraction of it), and 0.1 GB/s across regions, where latency bounds each connection. Planning figures.
 */
export const downloadGBps = (fromRegion: string, toRegion: string): number => (fromRegion === toRegion ? 0.5 : 0.1)

/** EC2 bills Linux instances per second with a minimum of 60 seconds per launch (https://aws.amazon.com/ec2/pricing/). */
export const MINIMUM_BILLED_HOURS = 60 / 3600

export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = {
  restartHours: 10 / 60,
  downloadGBps,
  checkpointGBpsPerInstance: DEFAULT_CHECKPOINT_WRITE_GBPS,
  batchCheckpointWriteHours: 30 / 3600,
  transferUsdPerGB: interRegionTransferUsdPerGB
}

/** Hours to write one checkpoint of the workload on this placement (and, the same again, to read it back). */
export const checkpointHours = (
  workload: Workload,
  estimate: PlacementEstimate,
  instances: number,
  assumptions: CostAssumptions
): number => {
  if (workload.kind !== "training") return assumptions.batchCheckpointWriteHours
  // What is trained and its optimizer states: a LoRA checkpoint holds the adapters only (core `resumableStateBytes`).
  const bytes = resumableStateBytes(modelShape(workload.model), workload.model)
  // A sharded state is written by every instance at once; a replicated one by rank 0 alone.
  const writers = estimate.sharding === "none" ? 1 : instances
  return checkpointWriteHours(bytes, writers, assumptions.checkpointGBpsPerInstance)
}

/** What every attempt spends before it trains, hours. */
export interface LaunchTime {
  /** Capacity request, boot, image pull, process start (`restartHours`). */
  readonly startHours: number
  /** The dataset (`data.sizeGB`), downloaded by each instance from the data's region. */
  readonly dataHours: number
  /** Pretrained weights a fine-tune starts from (2 bytes per parameter; a LoRA base is reloaded on every attempt). */
  readonly modelHours: number
  /** Hours of a relaunch: start, data, the base where it is not in the checkpoint, and the checkpoint read. */
  readonly relaunchHours: number
  /** Hours of the first launch: start, data and the pretrained weights. */
  readonly firstLaunchHours: number
}

/** How long an attempt takes to start training on this placement in `region`. Services start outside the plan. */
export const launchTime = (
  workload: Workload,
  region: string,
  writeHours: number,
  assumptions: CostAssumptions
): LaunchTime => {
  const startHours = assumptions.restartHours
  const source = workload.data?.region ?? region
  const rate = assumptions.downloadGBps(source, region) * 1e9
  const dataHours = workload.data === undefined || !(rate > 0) ? 0 : (workload.data.sizeGB * 1e9) / rate / 3600
  const modelHours = workload.kind === "training" && rate > 0 ? baseWeightsBytes(modelShape(workload.model)) / rate / 3600 : 0
  // A full fine-tune's checkpoint holds its weights; LoRA and QLoRA checkpoints hold only the adapters.
  const reloadsBase = workload.kind === "training" && workload.model.finetune !== "full"
  return {
    startHours,
    dataHours,
    modelHours,
    relaunchHours: startHours + dataHours + (reloadsBase ? modelHours : 0) + writeHours,
    firstLaunchHours: startHours + dataHours + modelHours
  }
}

export interface SpotRun {
  /** Expected wall-clock hours: launches, checkpoint writes, redone work, waits for capacity and any on-demand fallback. */
  readonly expectedHours: number
  /** Young's interval √(2·δ·M), capped at the job's length. */
  readonly checkpointEveryHours: number
  readonly jobMtbfHours: number
  readonly expectedInterruptions: number
  readonly interruptionsPerHour: number
  /** Billed hours per instance on spot, and on the on-demand fallback the policy takes to meet the deadline. */
  readonly spotHours: number
  readonly onDemandHours: number
  /** Hours waiting for capacity (not billed). */
  readonly waitHours: number
  /** Chance that the pool launches the gang at a given moment. */
  readonly availability: number
  /** Where that chance comes from. */
  readonly basis: CapacityBasis
  /** The fallback's on-demand price per instance-hour; null where the region has none. */
  readonly onDemandFallbackUsd: number | null
  /** Expected cost of all instances, USD (spot hours at the spot price, fallback at the on-demand price). */
  readonly costUsd: number
}

/** The part of a spot run that does not depend on the zone: interruptions, checkpoints and spot's progress rate. */
export interface SpotProgress {
  readonly jobMtbfHours: number
  /** Young's interval √(2·δ·M), capped at the job's length. */
  readonly checkpointEveryHours: number
  /** Work per hour held on spot: 1 / (1 + δ/τ + (τ/2 + relaunch)/M). */
  readonly progressPerHour: number
}

/**
 * A job of `baseHours` on `instances` spot instances: any instance's interruption stops it, so the job's MTBF is
 * the instance MTBF ÷ instances. Checkpoints every τ = √(2δM) (Young 1974; core `youngDalyIntervalHours`); each
 * interruption costs a relaunch (`launchTime`, the checkpoint read included) plus on average τ/2 of redone work, so
 * spot makes 1 / (1 + δ/τ + (τ/2 + relaunch)/M) of an hour's work per hour held (core `expectedOverheadFraction`,
 * first order).
 */
export const spotProgress = (baseHours: number, instances: number, risk: SpotRisk, writeHours: number, launch: LaunchTime): SpotProgress => {
  const mtbf = jobMtbfHours(risk, instances)
  const tau = Math.min(youngDalyIntervalHours(writeHours, mtbf), Math.max(baseHours, writeHours))
  const overhead = expectedOverheadFraction({
    intervalHours: tau,
    checkpointWriteHours: writeHours,
    mtbfHours: mtbf,
    restartHours: launch.relaunchHours
  })
  return { jobMtbfHours: mtbf, checkpointEveryHours: tau, progressPerHour: 1 / (1 + overhead) }
}

/**
 * The run in one zone, as the Supervisor runs it (`SpotJob.ts`): the pool has capacity for the gang a share
 * `availability` of the time; what spot cannot finish by the deadline runs on on-demand in the same region.
 */
export const spotRunIn = (options: {
  readonly progress: SpotProgress
  readonly baseHours: number
  readonly instances: number
  readonly launch: LaunchTime
  readonly availability: number
  /** Default `prior`. */
  readonly basis?: CapacityBasis | undefined
  readonly deadlineHours: number | null
  /** Per instance. */
  readonly spotUsd: number
  /** Per instance, in the same region; null where on-demand is not offered there (the job waits for spot). */
  readonly onDemandUsd: number | null
}): SpotRun => {
  const { progress, instances, launch } = options
  const job = spotJob({
    computeHours: options.baseHours,
    deadlineHours: options.deadlineHours,
    launchHours: launch.relaunchHours,
    firstLaunchHours: launch.firstLaunchHours,
    spotProgressPerHour: progress.progressPerHour,
    meanSpotRunHours: progress.jobMtbfHours,
    availability: options.availability,
    spotUsdPerHour: options.spotUsd * instances,
    onDemandUsdPerHour: options.onDemandUsd === null ? null : options.onDemandUsd * instances
  })
  // EC2's minimum: the first launch is billed at least 60 s.
  const spotHours = Math.max(job.spotHours, job.spotHours > 0 ? MINIMUM_BILLED_HOURS : 0)
  return {
    expectedHours: job.wallHours,
    checkpointEveryHours: progress.checkpointEveryHours,
    jobMtbfHours: progress.jobMtbfHours,
    expectedInterruptions: job.interruptions,
    interruptionsPerHour: 1 / progress.jobMtbfHours,
    spotHours,
    onDemandHours: job.onDemandHours,
    waitHours: job.waitHours,
    availability: options.availability,
    basis: options.basis ?? "prior",
    onDemandFallbackUsd: options.onDemandUsd,
    costUsd: job.costUsd + (spotHours - job.spotHours) * options.spotUsd * instances
  }
}

/** `spotProgress` and `spotRunIn` in one call. */
export const spotRun = (options: {
  readonly baseHours: number
  readonly instances: number
  readonly risk: SpotRisk
  readonly writeHours: number
  readonly launch: LaunchTime
  readonly availability: number
  readonly basis?: CapacityBasis | undefined
  readonly deadlineHours: number | null
  readonly spotUsd: number
  readonly onDemandUsd: number | null
}): SpotRun =>
  spotRunIn({ ...options, progress: spotProgress(options.baseHours, options.instances, options.risk, options.writeHours, options.launch) })

/** Billed hours of an on-demand or committed run: the first launch plus the work, never under EC2's 60-second minimum. */
export const billedHours = (baseHours: number, launch: LaunchTime): number =>
  Math.max(MINIMUM_BILLED_HOURS, launch.firstLaunchHours + baseHours)

/**
 * A serving placement on spot: replicas are replaced, not resumed, so hours are unchanged; interruptions are
 * reported. While the pool has no capacity (1 − availability of the time) replicas run on on-demand, where the
 * region offers it.
 */
export const spotServing = (
  hours: number,
  instances: number,
  risk: SpotRisk,
  spotUsd: number,
  availability = 1,
  onDemandUsd: number | null = null,
  basis: CapacityBasis = "prior"
): SpotRun => {
  const mtbf = jobMtbfHours(risk, instances)
  const spotHours = onDemandUsd === null ? hours : hours * availability
  const onDemandHours = hours - spotHours
  return {
    expectedHours: hours,
    checkpointEveryHours: Number.POSITIVE_INFINITY,
    jobMtbfHours: mtbf,
    expectedInterruptions: hours / mtbf,
    interruptionsPerHour: 1 / mtbf,
    spotHours,
    onDemandHours,
    waitHours: 0,
    availability,
    basis,
    onDemandFallbackUsd: onDemandUsd,
    costUsd: instances * (spotHours * spotUsd + onDemandHours * (onDemandUsd ?? 0))
  }
}

export interface CommitmentCharge {
  /** USD charged to this workload: every hour of every term bought, used or not. */
  readonly costUsd: number
  /** Hours paid for per instance. */
  readonly paidHours: number
  /** Share of the paid hours the workload uses. */
  readonly utilization: number
  /** The utilisation above which the commitment beats on-demand: effective rate ÷ on-demand rate. */
  readonly breakEvenUtilization: number | null
  /** Terms bought back to back (a job longer than one term needs two). */
  readonly terms: number
}

/**
 * A job of `hours` on a commitment is charged the whole term (a 3-day job on a 1-year reservation pays for the
 * year: the share of the term it cannot fill is its cost too). A service of `hours` per month is charged the
 * 730 hours of every month of the term, assuming it runs for the whole term.
 */
export const commitmentCharge = (options: {
  readonly hours: number
  readonly perMonth: boolean
  readonly instances: number
  readonly years: 1 | 3
  readonly effectiveHourlyUsd: number
  readonly onDemandHourlyUsd: number | null
}): CommitmentCharge => {
  const termHours = HOURS_PER_YEAR * options.years
  const terms = options.perMonth ? 1 : Math.max(1, Math.ceil(options.hours / termHours))
  const paidHours = options.perMonth ? HOURS_PER_MONTH : terms * termHours
  return {
    costUsd: paidHours * options.instances * options.effectiveHourlyUsd,
    paidHours,
    utilization: Math.min(1, options.hours / paidHours),
    breakEvenUtilization: options.onDemandHourlyUsd === null || !(options.onDemandHourlyUsd > 0)
      ? null
      : options.effectiveHourlyUsd / options.onDemandHourlyUsd,
    terms
  }
}

/** USD to move the workload's data from its region into `region` once. */
export const transferCostUsd = (workload: Workload, region: string, assumptions: CostAssumptions): number =>
  workload.data === undefined ? 0 : workload.data.sizeGB * assumptions.transferUsdPerGB(workload.data.region, region)
