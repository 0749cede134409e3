/**
 * How the scheduler starts work: the one launch path every job takes (`frugal run`'s, in `@frugal/sdk/jobs`:
 * prepareJob → runPrepared, resumeJob), declared here and provided by the SDK, so the scheduler never owns a second
 * way to launch. `prepare` checks and prices a workload (at submission, and again at admission); its `run` starts the
 * job on the placements admission chose, under the job id the queue gave it.
 */
import { InvalidInput, type NoFeasiblePlacement } from "@frugal/core"
import type { JobLeased, JobOutcome, RankedPlacement } from "@frugal/runner"
import { Context, type Effect, Schema } from "effect"
import type { QuotaLimit, QuotaUse } from "./Admission.ts"

/** The job could not be prepared or run for a reason that is not the workload's fault (ledger, engine, catalog). */
export class LaunchFailure extends Schema.TaggedError<LaunchFailure>()("LaunchFailure", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId}: ${this.detail}`
  }
}

/** What the scheduler needs to know about a workload before it runs. */
export interface Assessment {
  readonly name: string
  /** The ranked placements, best first (one local placement for a job without a plan). */
  readonly placements: ReadonlyArray<RankedPlacement>
  /** True when a plan priced the placements; false for a local job charged at this machine's price. */
  readonly planned: boolean
  readonly deadlineHours: number | null
  readonly budgetUsd: number | null
  /** The account quotas its first placement counts against. */
  readonly quotaUse: ReadonlyArray<QuotaUse>
}

export interface PreparedLaunch {
  readonly assessment: Assessment
  /**
   * Runs the job to its end on `placements` (failover order), its deadline `deadlineHours` from the first attempt.
   * JobLeased: another process holds the job's lease (it runs the job), so nothing was started.
   */
  readonly run: (
    placements: readonly [RankedPlacement, ...Array<RankedPlacement>],
    deadlineHours: number | null
  ) => Effect.Effect<JobOutcome, LaunchFailure | JobLeased>
}

export class JobLauncher extends Context.Service<JobLauncher, {
  readonly prepare: (jobId: string, workloadText: string) => Effect.Effect<PreparedLaunch, InvalidInput | NoFeasiblePlacement | LaunchFailure>
  /** The account's quota limits that jobs count against (EC2 vCPUs per quota code and region); none offline. */
  readonly quotas: Effect.Effect<ReadonlyArray<QuotaLimit>>
  /**
   * Continues a job from the ledger: adopts or stops what a dead leader left running, resumes from the checkpoint.
   * `workloadText` is the queued workload: a job in the ledger made from another workload is not continued with it.
   * JobLeased: another process holds the job's lease (it runs the job), so nothing was started.
   */
  readonly resume: (jobId: string, workloadText: string) => Effect.Effect<JobOutcome, LaunchFailure | JobLeased>
}>()("@frugal/scheduler/JobLauncher") {}

/** What admission reserves and counts for a job, from its placements (pure). */
export interface AdmissionNeeds {
  readonly expectedCostUsd: number
  readonly expectedHours: number
  /** The most GPUs any of its placements holds: failover never takes it over its limits. */
  readonly gpus: number
  /** Its first placement is spot: urgent work may preempt it. */
  readonly preemptible: boolean
}

export const gpusOf = (ranked: RankedPlacement): number => ranked.placement.acceleratorsPerInstance * ranked.placement.instanceCount

/**
 * The needs of a job on `placements`: the first placement's expected cost and hours when a plan priced it; a job
 * without a plan (a local CPU run) reserves its `constraints.budgetUsd`, which it must then give.
 */
export const admissionNeeds = (
  placements: ReadonlyArray<RankedPlacement>,
  planned: boolean,
  budgetUsd: number | null,
  source: string
): AdmissionNeeds | InvalidInput => {
  const first = placements[0]
  if (first === undefined) {
    return new InvalidInput({ source, issues: [{ path: "resources", expected: "a workload the engines in use can place" }] })
  }
  if (!planned && budgetUsd === null) {
    return new InvalidInput({
      source,
      issues: [{
        path: "constraints.budgetUsd",
        expected: "a budget in US dollars for a job no plan prices (a local run), which the scheduler reserves from the team's month"
      }]
    })
  }
  return {
    expectedCostUsd: planned ? first.expectedCostUsd : budgetUsd ?? 0,
    expectedHours: first.expectedHours,
    gpus: Math.max(...placements.map(gpusOf)),
    preemptible: first.placement.purchaseOption === "spot"
  }
}
