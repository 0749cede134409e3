/**
 * A week of synthetic team demand replayed through the scheduler's own pass (`planPass`: admission, order, deadline
 * fit, preemption) under three orderings, with the same budgets and GPU limits, printing spend, deadline misses and
 * waits. `pnpm bench scheduler-replay`; other seeds with `FRUGAL_REPLAY_SEEDS=4,5,6 pnpm bench scheduler-replay`.
 *
 * The demand (per seed):
 * - 5 teams sharing 64 GPUs, each team at most 32; each team's monthly budget is $100,000 (it does not bind here:
 *   the scenario test covers budget waits). The week starts on a Monday, 00:00 UTC.
 * - Arrivals: a Poisson process at 13 jobs/h on weekdays 08:00–20:00 UTC and 3.25 jobs/h otherwise (about 1,130 a
 *   week, ≈ 1.6× the GPUs at the weekday peak, ≈ 0.85× over the week); teams draw 30/25/20/15/10 % of them.
 * - Each job: GPUs 1, 2, 4 or 8 (40/25/20/15 %); on-demand hours lognormal with median 2 h and σ = 0.8, clamped to
 *   [0.25, 24]; priority 0, 5 or 20 (70/20/10 %); a deadline for 35 % of them: on-demand hours × U(1.2, 3) + U(1, 8) h
 *   from submission.
 * - Two placements per job, spot first: spot at $1.60 per GPU-hour taking 1.15× the on-demand hours (interruptions,
 *   restarts), on-demand at $4.10 per GPU-hour. A job runs exactly its placement's expected hours.
 * - A preempted job checkpoints at once, loses 0.25 h of work (restart and the steps since its checkpoint) and goes
 *   back to the queue with its submission time.
 *
 * The orderings, all with the same admission (budgets, team and global GPU limits, capacity held for the job ahead):
 * - FIFO: submission order; no priorities, no deadlines (every job on its first, spot, placement), no preemption.
 * - priority-only: priority, then submission order; no aging, no deadlines; urgent work preempts spot jobs ≥ 10
 *   points lower (the same rule as Frugal's).
 * - Frugal: priority with aging (1 point per hour waited), then deadline slack; a job whose deadline only on-demand
 *   can still meet gets on-demand, one that nothing can meet any more is refused at once (counted as a miss); the
 *   same preemption rule.
 * A pass runs on every arrival and completion and every 15 simulated minutes; the replay runs until every job ends.
 */
import type { Placement, RankedPlacement } from "../packages/runner/src/index.ts"
import { planPass, type QueueJob, type QueueSnapshot, type RunningWork, type SchedulerPolicy } from "../packages/scheduler/src/index.ts"

const HOUR = 3_600_000
const WEEK_START = Date.UTC(2026, 2, 2) // a Monday
const WEEK = 168 * HOUR
const TEAMS = [["research", 0.3], ["product", 0.25], ["vision", 0.2], ["speech", 0.15], ["infra", 0.1]] as const
const PEAK_JOBS_PER_HOUR = 10
const OFF_PEAK_JOBS_PER_HOUR = 2.5
const SPOT_USD_PER_GPU_HOUR = 1.6
const ON_DEMAND_USD_PER_GPU_HOUR = 4.1
const SPOT_HOURS_FACTOR = 1.15
const PREEMPTION_LOSS_HOURS = 0.25
const PASS_EVERY = 0.25 * HOUR

type Strategy = "FIFO" | "priority-only" | "Frugal"

interface Demand {
  readonly id: string
  readonly team: string
  readonly priority: number
  readonly submittedAtMillis: number
  readonly deadlineHours: number | null
  readonly gpus: number
  /** Hours of the whole job on on-demand. */
  readonly onDemandHours: number
}

/** mulberry32: the same demand for the same seed on every machine. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const weighted = <A>(next: () => number, choices: ReadonlyArray<readonly [A, number]>): A => {
  let roll = next()
  for (const [value, weight] of choices) {
    if ((roll -= weight) < 0) return value
  }
  const last = choices[choices.length - 1]
  if (last === undefined) throw new Error("no choices")
  return last[0]
}

const isPeak = (millis: number): boolean => {
  const date = new Date(millis)
  const day = date.getUTCDay()
  const hour = date.getUTCHours()
  return day >= 1 && day <= 5 && hour >= 8 && hour < 20
}

const weekOfDemand = (seed: number): ReadonlyArray<Demand> => {
  const next = random(seed)
  const demand: Array<Demand> = []
  // Thinning: candidates at the peak rate, kept with probability rate(t) / peak.
  for (let t = WEEK_START; ;) {
    t += (-Math.log(1 - next()) / PEAK_JOBS_PER_HOUR) * HOUR
    if (t >= WEEK_START + WEEK) break
    if (next() >= (isPeak(t) ? PEAK_JOBS_PER_HOUR : OFF_PEAK_JOBS_PER_HOUR) / PEAK_JOBS_PER_HOUR) continue
    const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
    const onDemandHours = Math.min(24, Math.max(0.25, 2 * Math.exp(0.8 * normal)))
    const deadline = next() < 0.35 ? onDemandHours * (1.2 + 1.8 * next()) + 1 + 7 * next() : null
    demand.push({
      id: `job-${String(demand.length).padStart(4, "0")}`,
      team: weighted(next, TEAMS),
      priority: weighted(next, [[0, 0.7], [5, 0.2], [20, 0.1]]),
      submittedAtMillis: Math.round(t),
      deadlineHours: deadline,
      gpus: weighted(next, [[1, 0.4], [2, 0.25], [4, 0.2], [8, 0.15]]),
      onDemandHours
    })
  }
  return demand
}

const placement = (gpus: number, purchaseOption: "spot" | "on-demand"): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: `gpu.${gpus}x`,
  region: "us-east-1",
  availabilityZone: purchaseOption === "spot" ? "use1-az4" : null,
  purchaseOption,
  hourlyPriceUsd: gpus * (purchaseOption === "spot" ? SPOT_USD_PER_GPU_HOUR : ON_DEMAND_USD_PER_GPU_HOUR),
  instanceCount: 1,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: gpus,
  interruptionsPerHour: purchaseOption === "spot" ? 0.05 : 0
})

const ranked = (gpus: number, purchaseOption: "spot" | "on-demand", onDemandHours: number): RankedPlacement => {
  const p = placement(gpus, purchaseOption)
  const hours = purchaseOption === "spot" ? onDemandHours * SPOT_HOURS_FACTOR : onDemandHours
  return { placement: p, baseHours: onDemandHours, expectedHours: hours, expectedCostUsd: hours * p.hourlyPriceUsd }
}

interface Attempt {
  readonly startedAtMillis: number
  readonly endsAtMillis: number
  readonly hourlyPriceUsd: number
  readonly spot: boolean
  /** The share of the whole job this attempt finishes. */
  readonly workShare: number
  readonly expectedCostUsd: number
}

interface SimJob {
  readonly demand: Demand
  /** The share of the job's work still to do. */
  remaining: number
  state: "queued" | "running" | "completed" | "refused"
  firstAdmittedAtMillis: number | null
  endedAtMillis: number | null
  costUsd: number
  preemptions: number
  attempt: Attempt | null
}

const policyFor = (strategy: Strategy): SchedulerPolicy => ({
  teams: TEAMS.map(([name]) => ({ name, monthlyBudgetUsd: 100_000, maxGpus: 32 })),
  maxGpus: 64,
  agingPointsPerHour: strategy === "Frugal" ? 1 : 0,
  preemption: { enabled: strategy !== "FIFO", minPriorityGap: 10 },
  commitments: []
})

/** The job as the queue would hold it; what an ordering does not know (priority, deadline) is left out. */
const queueJob = (job: SimJob, strategy: Strategy): QueueJob => {
  const hours = job.demand.onDemandHours * job.remaining
  const spot = ranked(job.demand.gpus, "spot", hours)
  const placements = [spot, ranked(job.demand.gpus, "on-demand", hours)]
  return {
    id: job.demand.id,
    name: "synthetic",
    team: job.demand.team,
    priority: strategy === "FIFO" ? 0 : job.demand.priority,
    deadlineHours: strategy === "Frugal" ? job.demand.deadlineHours : null,
    expectedHours: spot.expectedHours,
    expectedCostUsd: spot.expectedCostUsd,
    gpus: job.demand.gpus,
    preemptible: true,
    quotaUse: [],
    placements,
    planned: true,
    workloadText: "",
    state: "queued",
    reason: null,
    detail: null,
    submittedAtMillis: job.demand.submittedAtMillis,
    updatedAtMillis: job.demand.submittedAtMillis,
    admittedAtMillis: job.firstAdmittedAtMillis,
    endedAtMillis: null,
    cancelRequested: false,
    preemptRequested: false,
    preemptions: job.preemptions,
    costUsd: job.costUsd
  }
}

const accrued = (attempt: Attempt, nowMillis: number): number => ((nowMillis - attempt.startedAtMillis) / HOUR) * attempt.hourlyPriceUsd

const replay = (demand: ReadonlyArray<Demand>, strategy: Strategy) => {
  const policy = policyFor(strategy)
  const jobs = demand.map((d): SimJob => ({ demand: d, remaining: 1, state: "queued", firstAdmittedAtMillis: null, endedAtMillis: null, costUsd: 0, preemptions: 0, attempt: null }))
  const byId = new Map(jobs.map((job) => [job.demand.id, job]))
  const get = (id: string): SimJob => {
    const job = byId.get(id)
    if (job === undefined) throw new Error(`no job ${id}`)
    return job
  }
  let arrived = 0
  let nextTick = WEEK_START
  let now = WEEK_START

  const pass = () => {
    for (let round = 0; round < 10; round++) {
      const queued = jobs.slice(0, arrived).filter((job) => job.state === "queued")
      const running = jobs.slice(0, arrived).flatMap((job) => (job.attempt === null ? [] : [{ job, attempt: job.attempt }]))
      const spent = new Map<string, number>()
      for (const job of jobs.slice(0, arrived)) {
        const usd = job.costUsd + (job.attempt === null ? 0 : accrued(job.attempt, now))
        spent.set(job.demand.team, (spent.get(job.demand.team) ?? 0) + usd)
      }
      const runningWork: Array<RunningWork> = running.map(({ job, attempt }) => ({
        id: job.demand.id,
        team: job.demand.team,
        priority: strategy === "FIFO" ? 0 : job.demand.priority,
        gpus: job.demand.gpus,
        startedAtMillis: attempt.startedAtMillis,
        preemptible: attempt.spot,
        preempting: false,
        expectedCostUsd: attempt.expectedCostUsd,
        costUsd: accrued(attempt, now),
        quotaUse: []
      }))
      const view: QueueSnapshot = { nowMillis: now, queued: queued.map((job) => queueJob(job, strategy)), running: [], runningWork, spentUsd: spent, openAttempts: new Map() }
      const plan = planPass(policy, view, [])
      for (const refused of plan.refused) {
        const job = get(refused.jobId)
        job.state = "refused"
        job.endedAtMillis = now
      }
      for (const id of plan.admit) {
        const job = get(id)
        const launch = plan.launches.get(id)
        if (launch === undefined) throw new Error(`no launch for ${id}`)
        const first = launch.placements[0]
        job.state = "running"
        job.firstAdmittedAtMillis ??= now
        job.attempt = {
          startedAtMillis: now,
          endsAtMillis: now + first.expectedHours * HOUR,
          hourlyPriceUsd: first.placement.hourlyPriceUsd,
          spot: first.placement.purchaseOption === "spot",
          workShare: job.remaining,
          expectedCostUsd: launch.expectedCostUsd
        }
      }
      if (plan.preempt.length === 0) return
      // Victims checkpoint and stop now; the pass runs again with their GPUs free.
      for (const { jobId } of plan.preempt) {
        const job = get(jobId)
        const attempt = job.attempt
        if (attempt === null) throw new Error(`${jobId} is not running`)
        const done = ((now - attempt.startedAtMillis) / (attempt.endsAtMillis - attempt.startedAtMillis)) * attempt.workShare
        const lost = PREEMPTION_LOSS_HOURS / job.demand.onDemandHours
        job.remaining = Math.min(1, Math.max(0.01, attempt.workShare - done + lost))
        job.costUsd += accrued(attempt, now)
        job.attempt = null
        job.state = "queued"
        job.preemptions++
      }
    }
  }

  while (arrived < jobs.length || jobs.some((job) => job.state === "queued" || job.state === "running")) {
    const nextArrival = jobs[arrived]?.demand.submittedAtMillis ?? Infinity
    const nextEnd = Math.min(...jobs.slice(0, arrived).map((job) => job.attempt?.endsAtMillis ?? Infinity))
    now = Math.min(nextArrival, nextEnd, nextTick)
    if (now === nextTick) nextTick += PASS_EVERY
    while ((jobs[arrived]?.demand.submittedAtMillis ?? Infinity) <= now) arrived++
    for (const job of jobs.slice(0, arrived)) {
      if (job.attempt !== null && job.attempt.endsAtMillis <= now) {
        job.costUsd += accrued(job.attempt, job.attempt.endsAtMillis)
        job.endedAtMillis = job.attempt.endsAtMillis
        job.attempt = null
        job.remaining = 0
        job.state = "completed"
      }
    }
    pass()
  }
  return jobs
}

const mean = (values: ReadonlyArray<number>) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length)

const summarise = (jobs: ReadonlyArray<SimJob>) => {
  const waitHours = (list: ReadonlyArray<SimJob>) =>
    list.flatMap((job) => (job.firstAdmittedAtMillis === null ? [] : [(job.firstAdmittedAtMillis - job.demand.submittedAtMillis) / HOUR]))
  const waits = waitHours(jobs).sort((a, b) => a - b)
  const isLate = (job: SimJob) =>
    job.state === "completed" && job.demand.deadlineHours !== null &&
    (job.endedAtMillis ?? 0) > job.demand.submittedAtMillis + job.demand.deadlineHours * HOUR
  const completed = jobs.filter((job) => job.state === "completed")
  const spendUsd = jobs.reduce((sum, job) => sum + job.costUsd, 0)
  return {
    spendUsd,
    completed: completed.length,
    // What a GPU-hour of finished work cost: spend over the on-demand GPU-hours of the jobs that completed.
    usdPerGpuHourDone: spendUsd / completed.reduce((sum, job) => sum + job.demand.gpus * job.demand.onDemandHours, 0),
    deadlineJobs: jobs.filter((job) => job.demand.deadlineHours !== null).length,
    late: jobs.filter(isLate).length,
    refused: jobs.filter((job) => job.state === "refused").length,
    meanWaitHours: mean(waits),
    p95WaitHours: waits[Math.floor(0.95 * (waits.length - 1))] ?? 0,
    meanWaitByPriority: [20, 5, 0].map((priority) => mean(waitHours(jobs.filter((job) => job.demand.priority === priority)))),
    maxWaitHours: waits.at(-1) ?? 0,
    preemptions: jobs.reduce((sum, job) => sum + job.preemptions, 0)
  }
}
type Summary = ReturnType<typeof summarise>

const seeds = (process.env["FRUGAL_REPLAY_SEEDS"] ?? "1,2,3").split(",").map(Number).filter(Number.isFinite)
const strategies: ReadonlyArray<Strategy> = ["FIFO", "priority-only", "Frugal"]
const totals = new Map<Strategy, Array<Summary>>()
const money = (usd: number) => `$${Math.round(usd).toLocaleString("en-US")}`
const header = `  ${"ordering".padEnd(14)}${"spend".padStart(8)} ${"done".padStart(5)} ${"$/GPU-h".padStart(7)}  ${"deadline missed".padEnd(26)}` +
  `${"mean wait".padStart(10)}${"p95 wait".padStart(10)}  ${"mean wait p20/p5/p0".padEnd(20)}${"max wait".padStart(9)}${"preempt".padStart(8)}`
const row = (name: string, s: Summary) =>
  `  ${name.padEnd(14)}${money(s.spendUsd).padStart(8)} ${String(s.completed).padStart(5)} ${s.usdPerGpuHourDone.toFixed(2).padStart(7)}  ` +
  `${`${s.late + s.refused}/${s.deadlineJobs}: ${s.late} late, ${s.refused} ref.`.padEnd(26)}` +
  `${`${s.meanWaitHours.toFixed(2)} h`.padStart(10)}${`${s.p95WaitHours.toFixed(2)} h`.padStart(10)}  ` +
  `${s.meanWaitByPriority.map((h) => h.toFixed(2)).join("/").padEnd(20)}${`${s.maxWaitHours.toFixed(1)} h`.padStart(9)}${String(s.preemptions).padStart(8)}`

for (const seed of seeds) {
  const demand = weekOfDemand(seed)
  const gpuHours = demand.reduce((sum, d) => sum + d.gpus * d.onDemandHours, 0)
  console.log(`seed ${seed}: ${demand.length.toLocaleString("en-US")} jobs, ${Math.round(gpuHours).toLocaleString("en-US")} GPU-hours on on-demand (64 GPUs × 168 h = 10,752), ${demand.filter((d) => d.deadlineHours !== null).length} with a deadline`)
  console.log(header)
  for (const strategy of strategies) {
    const started = performance.now()
    const summary = summarise(replay(demand, strategy))
    totals.set(strategy, [...(totals.get(strategy) ?? []), summary])
    console.log(`${row(strategy, summary)}   (${(performance.now() - started).toFixed(0)} ms)`)
  }
}
if (seeds.length > 1) {
  console.log(`mean over seeds ${seeds.join(", ")}:`)
  console.log(header)
  for (const strategy of strategies) {
    const list = totals.get(strategy) ?? []
    const avg = (pick: (s: Summary) => number) => mean(list.map(pick))
    console.log(row(strategy, {
      spendUsd: avg((s) => s.spendUsd),
      completed: Math.round(avg((s) => s.completed)),
      usdPerGpuHourDone: avg((s) => s.usdPerGpuHourDone),
      deadlineJobs: Math.round(avg((s) => s.deadlineJobs)),
      late: Math.round(avg((s) => s.late)),
      refused: Math.round(avg((s) => s.refused)),
      meanWaitHours: avg((s) => s.meanWaitHours),
      p95WaitHours: avg((s) => s.p95WaitHours),
      meanWaitByPriority: [0, 1, 2].map((i) => avg((s) => s.meanWaitByPriority[i] ?? 0)),
      maxWaitHours: avg((s) => s.maxWaitHours),
      preemptions: Math.round(avg((s) => s.preemptions))
    }))
  }
}
