/**
 * One pass over the queue as it is now (pure): each queued job's placements are fitted first (owned commitments at
 * the head, then what its deadline still allows), which fixes what it costs and holds; a job no placement can finish
 * in time is refused; the rest go through admission. The loop carries out what this returns.
 */
import type { RankedPlacement } from "@frugal/runner"
import { admissionPass, type AdmissionDecision, type QueuedWork, type QuotaLimit } from "./Admission.ts"
import { commitmentUse, fillCommitmentsFirst } from "./Commitments.ts"
import { fitDeadline } from "./DeadlineFit.ts"
import { gpusOf } from "./JobLauncher.ts"
import { waitedHours } from "./QueueOrder.ts"
import type { SchedulerPolicy } from "./SchedulerPolicy.ts"
import type { QueueJob } from "./store/QueueRecords.ts"
import type { QueueSnapshot } from "./Usage.ts"

export interface FittedLaunch {
  readonly placements: readonly [RankedPlacement, ...Array<RankedPlacement>]
  /** Hours from the first attempt to the deadline. */
  readonly deadlineHours: number | null
  readonly onDemandOnly: boolean
  /** What admission reserves for it on these placements. */
  readonly expectedCostUsd: number
  readonly gpus: number
}

export interface PassPlan extends AdmissionDecision {
  /** Admitted (and waiting) jobs' placements as fitted now. */
  readonly launches: ReadonlyMap<string, FittedLaunch>
  /** Jobs no placement can finish before their deadline: refused, with the reason naming constraints.deadlineHours. */
  readonly refused: ReadonlyArray<{ readonly jobId: string; readonly detail: string }>
}

/** A queued job's placements now: commitments first, then what the hours left before its deadline allow. */
export const fitLaunch = (
  job: QueueJob,
  policy: SchedulerPolicy,
  use: ReturnType<typeof commitmentUse>,
  nowMillis: number
): FittedLaunch | { readonly refused: string } => {
  const withCommitments = job.planned ? fillCommitmentsFirst(job.placements, policy.commitments, use) : job.placements
  const fit = fitDeadline(withCommitments, job.deadlineHours, waitedHours(job, nowMillis))
  if (fit._tag === "Misses") return { refused: fit.detail }
  const [first, ...rest] = fit.placements
  if (first === undefined) return { refused: "no placement" }
  const placements: FittedLaunch["placements"] = [first, ...rest]
  return {
    placements,
    deadlineHours: fit.deadlineHours,
    onDemandOnly: fit.onDemandOnly,
    // A job without a plan reserves its constraints.budgetUsd, kept at submission.
    expectedCostUsd: job.planned ? first.expectedCostUsd : job.expectedCostUsd,
    gpus: Math.max(...placements.map(gpusOf))
  }
}

export const planPass = (policy: SchedulerPolicy, view: QueueSnapshot, quotas: ReadonlyArray<QuotaLimit>): PassPlan => {
  const use = commitmentUse([...view.openAttempts.values()].map((attempt) => attempt.placement))
  const launches = new Map<string, FittedLaunch>()
  const refused: Array<{ jobId: string; detail: string }> = []
  const queued: Array<QueuedWork> = []
  for (const job of view.queued) {
    const fitted = fitLaunch(job, policy, use, view.nowMillis)
    if ("refused" in fitted) {
      refused.push({ jobId: job.id, detail: fitted.refused })
      continue
    }
    launches.set(job.id, fitted)
    queued.push({
      id: job.id,
      team: job.team,
      priority: job.priority,
      submittedAtMillis: job.submittedAtMillis,
      deadlineHours: job.deadlineHours,
      expectedHours: fitted.placements[0].expectedHours,
      gpus: fitted.gpus,
      expectedCostUsd: fitted.expectedCostUsd,
      quotaUse: job.quotaUse
    })
  }
  const decision = admissionPass({
    policy,
    queued,
    running: view.runningWork,
    spentUsd: view.spentUsd,
    quotas,
    nowMillis: view.nowMillis
  })
  return { ...decision, launches, refused }
}
