/**
 * `frugal server`'s Prometheus metrics (prom-client), documented in docs/metrics.md. Most are read from the ledger
 * at each scrape (`metricsSnapshot`), so every replica reports the same figures and a restart loses none: counters
 * are the ledger's totals, which only grow; the queue-wait histogram holds every admitted job's wait, read from the
 * ledger's decisions (all of them at the first scrape, then those recorded since). The
 * scheduler's pass duration is observed as passes run (on the leader only), and the process metrics are prom-client's
 * defaults, prefixed `frugal_` like everything here.
 */
import type { MetricsSnapshot } from "@frugal/scheduler"
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"

export const METRIC_PREFIX = "frugal_"

/** Seconds: ten seconds to a day, so "waited over an hour" falls on a bucket edge. */
export const QUEUE_WAIT_BUCKETS_SECONDS: ReadonlyArray<number> = [10, 30, 60, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400]
/** Seconds: a millisecond to ten seconds (a pass over 10,000 queued jobs takes about a tenth of a second). */
export const PASS_BUCKETS_SECONDS: ReadonlyArray<number> = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

export interface ServerMetrics {
  /**
   * Sets every ledger-read metric from `snapshot`, observes the admissions it brings into the wait histogram, and
   * renders the registry (Prometheus text format 0.0.4). Call one at a time, each snapshot read after
   * `admittedAfter()`.
   */
  readonly render: (snapshot: MetricsSnapshot, readMillis: number) => Promise<string>
  /** The last admission decision observed: read the next snapshot's admissions after it. */
  readonly admittedAfter: () => number
  readonly contentType: string
  /** One scheduling pass took `millis`. */
  readonly observePass: (millis: number) => void
  readonly setLeader: (leading: boolean) => void
  /** Every metric name this server exports (for docs and tests), default process metrics included. */
  readonly names: () => ReadonlyArray<string>
}

export const makeServerMetrics = (options: { readonly processMetrics?: boolean } = {}): ServerMetrics => {
  const registry = new Registry()
  const registers = [registry]
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`
  const gauge = <L extends string>(suffix: string, help: string, labelNames: ReadonlyArray<L>) =>
    new Gauge<L>({ name: name(suffix), help, labelNames, registers })
  const counter = <L extends string>(suffix: string, help: string, labelNames: ReadonlyArray<L>) =>
    new Counter<L>({ name: name(suffix), help, labelNames, registers })

  const jobs = gauge("jobs", "Jobs in the queue by team and state (queued, running, completed, failed, cancelled)", ["team", "state"])
  const queueWait = new Histogram<"team">({
    name: name("queue_wait_seconds"),
    help: "Each admitted job's wait from submission to its first admission, by team (every admission in the ledger)",
    labelNames: ["team"],
    buckets: [...QUEUE_WAIT_BUCKETS_SECONDS],
    registers
  })
  const oldestWait = gauge("queue_oldest_wait_seconds", "How long the longest-waiting queued job of the team has waited (0 when none waits)", ["team"])
  const gpuHours = counter("gpu_hours_total", "GPU-hours of every attempt, by team, engine and purchase option (open attempts up to when last seen)", [
    "team",
    "runner",
    "purchase_option"
  ])
  const costUsd = counter("cost_usd_total", "Dollars of every attempt, by team, engine and purchase option (open attempts as accrued)", [
    "team",
    "runner",
    "purchase_option"
  ])
  const attempts = counter("attempts_total", "Attempts by team, engine and how they ended (running while open)", ["team", "runner", "exit_reason"])
  const interruptions = counter("interruptions_total", "Attempts interrupted (spot reclaim, pre-emption) by zone and the engine's reason", ["zone", "reason"])
  const provisioningFailures = counter("provisioning_failures_total", "Attempts the engine could not start (no capacity, a quota) by zone and reason", [
    "zone",
    "reason"
  ])
  const budget = gauge("budget_usd", "The team's monthly budget", ["team"])
  const spent = gauge("budget_spent_usd", "What the team's attempts cost this calendar month (UTC)", ["team"])
  const reserved = gauge("budget_reserved_usd", "What the team's running jobs are still expected to cost", ["team"])
  const remaining = gauge("budget_remaining_usd", "Budget left this month: budget − spent − reserved (negative when over)", ["team"])
  const gpusInUse = gauge("gpus_in_use", "GPUs the team's running jobs hold", ["team"])
  const gpusLimit = gauge("gpus_limit", "GPUs the team may hold at once (maxGpus)", ["team"])
  const failing = gauge("jobs_failing_repeatedly", "Waiting or running jobs whose last 3 or more attempts all failed (crashed or could not be provisioned)", [
    "team"
  ])
  const passDuration = new Histogram({
    name: name("scheduler_pass_duration_seconds"),
    help: "Time one scheduling pass took (observed on the leading replica only)",
    buckets: [...PASS_BUCKETS_SECONDS],
    registers
  })
  const leader = gauge("scheduler_leader", "1 while this replica runs the scheduling loop", [])
  const readSeconds = gauge("metrics_read_seconds", "Time this scrape took to read the ledger", [])
  leader.set(0)
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })

  let lastDecisionId = 0
  const apply = (snapshot: MetricsSnapshot, readMillis: number) => {
    for (const metric of [jobs, oldestWait, budget, spent, reserved, remaining, gpusInUse, gpusLimit, failing]) metric.reset()
    for (const metric of [gpuHours, costUsd, attempts, interruptions, provisioningFailures]) metric.reset()
    for (const row of snapshot.jobs) jobs.set({ team: row.team, state: row.state }, row.jobs)
    // A job's first wait never changes: each is observed once, as the ledger's decisions are read in order.
    for (const wait of snapshot.admissions.waits) queueWait.observe({ team: wait.team }, wait.seconds)
    lastDecisionId = Math.max(lastDecisionId, snapshot.admissions.lastDecisionId)
    for (const row of snapshot.oldestQueuedSeconds) oldestWait.set({ team: row.team }, row.seconds)
    for (const row of snapshot.spend) {
      const placement = { team: row.team, runner: row.runner, purchase_option: row.purchaseOption }
      gpuHours.inc(placement, row.gpuHours)
      costUsd.inc(placement, row.costUsd)
      attempts.inc({ team: row.team, runner: row.runner, exit_reason: row.exitReason }, row.attempts)
    }
    for (const row of snapshot.zoneEvents) {
      ;(row.kind === "interruption" ? interruptions : provisioningFailures).inc({ zone: row.zone, reason: row.reason }, row.attempts)
    }
    for (const team of snapshot.month) {
      const labels = { team: team.team }
      budget.set(labels, team.monthlyBudgetUsd)
      spent.set(labels, team.spentUsd)
      reserved.set(labels, team.reservedUsd)
      remaining.set(labels, team.remainingUsd)
      gpusInUse.set(labels, team.gpusInUse)
      gpusLimit.set(labels, team.maxGpus)
    }
    for (const row of snapshot.failingJobs) failing.set({ team: row.team }, row.jobs)
    readSeconds.set(readMillis / 1000)
  }

  // Scrapes are serialised: each sets every value and renders before the next one starts.
  let previous: Promise<unknown> = Promise.resolve()
  return {
    render: (snapshot, readMillis) => {
      const rendered = previous.then(() => {
        apply(snapshot, readMillis)
        return registry.metrics()
      })
      previous = rendered.catch(() => undefined)
      return rendered
    },
    admittedAfter: () => lastDecisionId,
    contentType: registry.contentType,
    observePass: (millis) => passDuration.observe(millis / 1000),
    setLeader: (leading) => leader.set(leading ? 1 : 0),
    names: () => registry.getMetricsAsArray().map((metric) => metric.name).sort()
  }
}
