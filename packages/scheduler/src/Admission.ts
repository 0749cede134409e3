/**
 * One scheduling pass (pure): which queued jobs start now, why each other one waits, and which running spot jobs to
 * preempt for urgent work. The loop calls it whenever something changes (a submission, a job ending, a cancel) and
 * acts on the answer; every decision it returns carries its reason.
 *
 * Jobs are taken in queue order (QueueOrder: aged priority, deadline slack, age). For each:
 * 1. Budget: the team's month, spent + reserved + this job's expected cost, must fit `monthlyBudgetUsd`, else it
 *    waits with reason `budget`. A running job reserves what it is still expected to cost (expected − accrued, at
 *    least 0), so a reservation is released as actual cost is recorded. A budget wait blocks no other job: a cheaper
 *    job of the same team may still fit.
 * 2. Capacity held for a job ahead: once a job waits for GPUs (or a quota), the capacity it waits for is held for it,
 *    so jobs after it that need the same capacity wait with reason `priority` instead of taking what frees up first
 *    (no starvation of large jobs). A team-limit wait holds that team's GPUs; a global-limit wait holds every GPU.
 *    Jobs without GPUs are never held back by GPU waits.
 * 3. Quotas: the account's quotas (EC2 vCPUs per quota code and region) must hold the job's use, else `quota`.
 * 4. GPUs: the team's running GPUs + this job's must fit the team's `maxGpus`, and everyone's the global `maxGpus`,
 *    else `gpus`. If the job is urgent (its priority at least `preemption.minPriorityGap` above theirs), running spot
 *    jobs are chosen to preempt (Preemption.ts); the job waits until they have checkpointed and stopped.
 */
import { effectivePriority, type Orderable, orderQueue } from "./QueueOrder.ts"
import { choosePreemptions, type PreemptionCandidate } from "./Preemption.ts"
import { type SchedulerPolicy, teamLimits } from "./SchedulerPolicy.ts"

export const WAIT_REASONS = ["budget", "gpus", "quota", "priority"] as const
export type WaitReason = (typeof WAIT_REASONS)[number]

/** A job's use of one account quota: EC2 vCPUs of one quota code in one region (`us-east-1/L-417A185B`). */
export interface QuotaUse {
  readonly key: string
  readonly amount: number
}

export interface QuotaLimit {
  readonly key: string
  readonly limit: number
}

export interface QueuedWork extends Orderable {
  readonly team: string
  /** GPUs the job holds while it runs (the most any of its placements takes). */
  readonly gpus: number
  /** What admission reserves: its plan's expected cost, or `constraints.budgetUsd` when no plan prices it. */
  readonly expectedCostUsd: number
  readonly quotaUse: ReadonlyArray<QuotaUse>
}

export interface RunningWork extends PreemptionCandidate {
  readonly expectedCostUsd: number
  /** Accrued so far (its attempts up to when they were last seen). */
  readonly costUsd: number
  readonly quotaUse: ReadonlyArray<QuotaUse>
}

export interface AdmissionInput {
  readonly policy: SchedulerPolicy
  readonly queued: ReadonlyArray<QueuedWork>
  readonly running: ReadonlyArray<RunningWork>
  /** Spent this calendar month per team, USD: ended attempts and running ones up to now. */
  readonly spentUsd: ReadonlyMap<string, number>
  readonly quotas: ReadonlyArray<QuotaLimit>
  readonly nowMillis: number
}

export interface Wait {
  readonly jobId: string
  readonly reason: WaitReason
  readonly detail: string
}

export interface Preempt {
  readonly jobId: string
  readonly forJobId: string
  readonly detail: string
}

export interface AdmissionDecision {
  /** Jobs to start now, in queue order. */
  readonly admit: ReadonlyArray<string>
  readonly wait: ReadonlyArray<Wait>
  readonly preempt: ReadonlyArray<Preempt>
}

const EPSILON = 1e-9

const usd = (value: number): string => `$${value.toFixed(value < 1 ? 4 : 2)}`

/** Per-key sums. */
class Tally {
  private readonly values = new Map<string, number>()
  get(key: string): number {
    return this.values.get(key) ?? 0
  }
  add(key: string, amount: number): void {
    this.values.set(key, this.get(key) + amount)
  }
}

export const admissionPass = (input: AdmissionInput): AdmissionDecision => {
  const { policy, nowMillis } = input
  const teamGpus = new Tally()
  const freeingGpus = new Tally()
  let globalGpus = 0
  let globalFreeing = 0
  const committedUsd = new Tally()
  const quotaUsed = new Tally()
  for (const [team, spent] of input.spentUsd) committedUsd.add(team, spent)
  for (const job of input.running) {
    teamGpus.add(job.team, job.gpus)
    globalGpus += job.gpus
    if (job.preempting) {
      freeingGpus.add(job.team, job.gpus)
      globalFreeing += job.gpus
    }
    committedUsd.add(job.team, Math.max(0, job.expectedCostUsd - job.costUsd))
    for (const use of job.quotaUse) quotaUsed.add(use.key, use.amount)
  }
  const quotaLimits = new Map(input.quotas.map((quota) => [quota.key, quota.limit]))

  const admit: Array<string> = []
  const wait: Array<Wait> = []
  const preempt: Array<Preempt> = []
  const chosen = new Set<string>()
  const heldTeams = new Map<string, string>()
  let heldGlobal: string | null = null
  const heldQuotas = new Map<string, string>()

  for (const job of orderQueue(input.queued, nowMillis, policy.agingPointsPerHour)) {
    const limits = teamLimits(policy, job.team)
    if (limits === undefined) {
      wait.push({ jobId: job.id, reason: "budget", detail: `team ${job.team} is not in the scheduler's configuration` })
      continue
    }
    const committed = committedUsd.get(job.team)
    if (committed + job.expectedCostUsd > limits.monthlyBudgetUsd + EPSILON) {
      wait.push({
        jobId: job.id,
        reason: "budget",
        detail: `team ${job.team} has ${usd(Math.max(0, limits.monthlyBudgetUsd - committed))} of its ${usd(limits.monthlyBudgetUsd)} ` +
          `monthly budget left (spent and reserved ${usd(committed)}); this job is expected to cost ${usd(job.expectedCostUsd)}`
      })
      continue
    }
    if (job.gpus > limits.maxGpus || job.gpus > policy.maxGpus) {
      wait.push({
        jobId: job.id,
        reason: "gpus",
        detail: `needs ${job.gpus} GPUs, more than the ${job.gpus > limits.maxGpus ? `team's limit of ${limits.maxGpus}` : `global limit of ${policy.maxGpus}`}`
      })
      continue
    }
    const heldFor = job.gpus > 0 ? heldTeams.get(job.team) ?? heldGlobal : null
    const quotaHeldFor = job.quotaUse.map((use) => heldQuotas.get(use.key)).find((holder) => holder !== undefined)
    if (heldFor !== null || quotaHeldFor !== undefined) {
      wait.push({ jobId: job.id, reason: "priority", detail: `the capacity it needs is held for ${heldFor ?? quotaHeldFor}, ahead of it in the queue` })
      continue
    }
    const overQuota = job.quotaUse.find((use) => {
      const limit = quotaLimits.get(use.key)
      return limit !== undefined && quotaUsed.get(use.key) + use.amount > limit + EPSILON
    })
    if (overQuota !== undefined) {
      for (const use of job.quotaUse) heldQuotas.set(use.key, job.id)
      wait.push({
        jobId: job.id,
        reason: "quota",
        detail: `quota ${overQuota.key}: ${quotaUsed.get(overQuota.key)} of ${quotaLimits.get(overQuota.key)} in use, this job needs ${overQuota.amount}`
      })
      continue
    }
    const teamOver = teamGpus.get(job.team) + job.gpus - limits.maxGpus
    const globalOver = globalGpus + job.gpus - policy.maxGpus
    if (teamOver > 0 || globalOver > 0) {
      if (teamOver > 0) heldTeams.set(job.team, job.id)
      if (globalOver > 0) heldGlobal = job.id
      const binding = teamOver > 0
        ? `team ${job.team} holds ${teamGpus.get(job.team)} of its ${limits.maxGpus} GPUs`
        : `${globalGpus} of the ${policy.maxGpus} GPUs are in use`
      // GPUs already on their way back from earlier preemptions count first.
      if (teamOver <= freeingGpus.get(job.team) && globalOver <= globalFreeing) {
        wait.push({ jobId: job.id, reason: "gpus", detail: `${binding}; waiting for preempted jobs to checkpoint and stop` })
        continue
      }
      const victims = policy.preemption.enabled
        ? choosePreemptions(
          job,
          input.running.filter((running) => !chosen.has(running.id)),
          { team: teamOver - freeingGpus.get(job.team), global: globalOver - globalFreeing },
          policy.preemption.minPriorityGap
        )
        : []
      for (const victim of victims) {
        chosen.add(victim.id)
        freeingGpus.add(victim.team, victim.gpus)
        globalFreeing += victim.gpus
        preempt.push({
          jobId: victim.id,
          forJobId: job.id,
          detail: `preempted for ${job.id} (priority ${job.priority}, ${job.gpus} GPUs): ${binding}`
        })
      }
      wait.push({ jobId: job.id, reason: "gpus", detail: victims.length > 0 ? `${binding}; preempting ${victims.map((v) => v.id).join(", ")}` : binding })
      continue
    }
    admit.push(job.id)
    teamGpus.add(job.team, job.gpus)
    globalGpus += job.gpus
    committedUsd.add(job.team, job.expectedCostUsd)
    for (const use of job.quotaUse) quotaUsed.add(use.key, use.amount)
  }
  return { admit, wait, preempt }
}

/** The effective priority of each queued job now, for display (`frugal queue`). */
export const effectivePriorities = (
  queued: ReadonlyArray<Orderable>,
  nowMillis: number,
  agingPointsPerHour: number
): ReadonlyMap<string, number> => new Map(queued.map((job) => [job.id, effectivePriority(job, nowMillis, agingPointsPerHour)]))
