/**
 * What one placement costs: the pure arithmetic behind every option the planner ranks. Sources are cited above each
 * formula and collected in docs/planner.md.
 */
import {
  checkpointWriteHours,
  DEFAULT_CHECKPOINT_WRITE_GBPS,
  expectedWallClockHours,
  HOURS_PER_MONTH,
  HOURS_PER_YEAR,
  modelShape,
  type PlacementEstimate,
  resumableStateBytes,
  type Workload,
  youngDalyIntervalHours
} from "@frugal/core"
import { jobMtbfHours, type SpotRisk } from "@frugal/pricing"

/** Tunable assumptions of the cost model; every default is documented in docs/planner.md. */
export interface CostAssumptions {
  /**
   * Hours from a spot interruption until the replacement makes progress again, before reading the checkpoint:
   * capacity request, boot, image pull and process start-up. Default 10 minutes.
   */
  readonly restartHours: number
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

export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = {
  restartHours: 10 / 60,
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

export interface SpotRun {
  /** Expected wall-clock hours including checkpoint writes, redone work and restarts. */
  readonly expectedHours: number
  /** Young's interval √(2·δ·M), capped at the job's length. */
  readonly checkpointEveryHours: number
  readonly jobMtbfHours: number
  readonly expectedInterruptions: number
  readonly interruptionsPerHour: number
}

/**
 * A job of `baseHours` on `instances` spot instances: any instance's interruption stops it, so the job's MTBF is
 * the instance MTBF ÷ instances. Checkpoints every τ = √(2δM) (Young 1974; core `youngDalyIntervalHours`), and
 * each interruption costs the restart plus the checkpoint read plus on average τ/2 of redone work
 * (core `expectedWallClockHours`, first order).
 */
export const spotRun = (baseHours: number, instances: number, risk: SpotRisk, writeHours: number, restartHours: number): SpotRun => {
  const mtbf = jobMtbfHours(risk, instances)
  const tau = Math.min(youngDalyIntervalHours(writeHours, mtbf), Math.max(baseHours, writeHours))
  const expectedHours = expectedWallClockHours({
    computeHours: baseHours,
    intervalHours: tau,
    checkpointWriteHours: writeHours,
    mtbfHours: mtbf,
    restartHours: restartHours + writeHours
  })
  return {
    expectedHours,
    checkpointEveryHours: tau,
    jobMtbfHours: mtbf,
    expectedInterruptions: expectedHours / mtbf,
    interruptionsPerHour: 1 / mtbf
  }
}

/** A serving placement on spot: replicas are replaced, not resumed, so hours are unchanged; interruptions are reported. */
export const spotServing = (hours: number, instances: number, risk: SpotRisk): SpotRun => {
  const mtbf = jobMtbfHours(risk, instances)
  return { expectedHours: hours, checkpointEveryHours: Number.POSITIVE_INFINITY, jobMtbfHours: mtbf, expectedInterruptions: hours / mtbf, interruptionsPerHour: 1 / mtbf }
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
