/**
 * `/metrics` as Prometheus reads it: the ledger's figures under documented names, counters equal to the ledger's
 * totals, a histogram rebuilt from every wait at each scrape, and label values that stay bounded however many zones
 * and reasons the engines report.
 */
import { boundedZoneEvents, labelValue, MAX_REASON_LABELS, MAX_ZONE_LABELS, type MetricsSnapshot } from "@frugal/scheduler"
import { describe, expect, it } from "vitest"
import { makeServerMetrics } from "../src/metrics/ServerMetrics.ts"

/** `name{labels} value` lines of the text format, as a map from the series to its value. */
const parseExposition = (text: string): ReadonlyMap<string, number> =>
  new Map(text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const at = line.lastIndexOf(" ")
    return [line.slice(0, at), Number(line.slice(at + 1))] as const
  }))

const snapshot: MetricsSnapshot = {
  nowMillis: Date.UTC(2026, 2, 15),
  jobs: [
    { team: "a", state: "running", jobs: 2 },
    { team: "a", state: "completed", jobs: 7 },
    { team: "b", state: "queued", jobs: 1 }
  ],
  admissions: {
    lastDecisionId: 9,
    waits: [{ jobId: "j1", team: "a", seconds: 5 }, { jobId: "j2", team: "a", seconds: 400 }, { jobId: "j3", team: "a", seconds: 5000 }]
  },
  oldestQueuedSeconds: [{ team: "a", seconds: 0 }, { team: "b", seconds: 4000 }],
  spend: [
    { team: "a", runner: "ec2", purchaseOption: "spot", exitReason: "interrupted", attempts: 2, gpuHours: 16, costUsd: 40 },
    { team: "a", runner: "ec2", purchaseOption: "spot", exitReason: "completed", attempts: 1, gpuHours: 8, costUsd: 20 },
    { team: "a", runner: "ec2", purchaseOption: "on-demand", exitReason: "running", attempts: 1, gpuHours: 2, costUsd: 7.5 }
  ],
  zoneEvents: [
    { zone: "use1-az4", kind: "interruption", reason: "Server.SpotInstanceTermination", attempts: 2 },
    { zone: "use1-az6", kind: "provision-failure", reason: "InsufficientInstanceCapacity", attempts: 3 }
  ],
  month: [{ team: "a", monthlyBudgetUsd: 100, spentUsd: 67.5, reservedUsd: 12.5, remainingUsd: 20, gpusInUse: 8, maxGpus: 16, runningJobs: 2, queuedJobs: 0 }],
  failingJobs: [{ team: "a", jobs: 0 }, { team: "b", jobs: 1 }]
}

describe("/metrics", () => {
  it("exports the ledger's jobs, waits, GPU-hours, dollars, interruptions and budgets under their documented names", async () => {
    const metrics = makeServerMetrics({ processMetrics: false })
    metrics.observePass(12)
    metrics.setLeader(true)
    const series = parseExposition(await metrics.render(snapshot, 4))
    expect(series.get('frugal_jobs{team="a",state="running"}')).toBe(2)
    expect(series.get('frugal_jobs{team="b",state="queued"}')).toBe(1)
    expect(series.get('frugal_queue_wait_seconds_bucket{le="10",team="a"}')).toBe(1)
    expect(series.get('frugal_queue_wait_seconds_bucket{le="600",team="a"}')).toBe(2)
    expect(series.get('frugal_queue_wait_seconds_bucket{le="3600",team="a"}')).toBe(2)
    expect(series.get('frugal_queue_wait_seconds_count{team="a"}')).toBe(3)
    expect(series.get('frugal_queue_wait_seconds_sum{team="a"}')).toBe(5405)
    expect(series.get('frugal_queue_oldest_wait_seconds{team="b"}')).toBe(4000)
    // Dollars and GPU-hours by team, engine and purchase option: the endings summed.
    expect(series.get('frugal_cost_usd_total{team="a",runner="ec2",purchase_option="spot"}')).toBe(60)
    expect(series.get('frugal_gpu_hours_total{team="a",runner="ec2",purchase_option="spot"}')).toBe(24)
    expect(series.get('frugal_cost_usd_total{team="a",runner="ec2",purchase_option="on-demand"}')).toBe(7.5)
    expect(series.get('frugal_attempts_total{team="a",runner="ec2",exit_reason="interrupted"}')).toBe(2)
    expect(series.get('frugal_interruptions_total{zone="use1-az4",reason="Server.SpotInstanceTermination"}')).toBe(2)
    expect(series.get('frugal_provisioning_failures_total{zone="use1-az6",reason="InsufficientInstanceCapacity"}')).toBe(3)
    expect(series.get('frugal_budget_remaining_usd{team="a"}')).toBe(20)
    expect(series.get('frugal_budget_spent_usd{team="a"}')).toBe(67.5)
    expect(series.get('frugal_jobs_failing_repeatedly{team="b"}')).toBe(1)
    expect(series.get("frugal_scheduler_pass_duration_seconds_count")).toBe(1)
    expect(series.get('frugal_scheduler_pass_duration_seconds_bucket{le="0.025"}')).toBe(1)
    expect(series.get('frugal_scheduler_pass_duration_seconds_bucket{le="0.01"}')).toBe(0)
    expect(series.get("frugal_scheduler_leader")).toBe(1)
    expect(series.get("frugal_metrics_read_seconds")).toBe(0.004)
  })

  it("sets every value afresh at each scrape (a series the ledger no longer has is gone) and adds only new admissions to the waits", async () => {
    const metrics = makeServerMetrics({ processMetrics: false })
    expect(metrics.admittedAfter()).toBe(0)
    await metrics.render(snapshot, 1)
    expect(metrics.admittedAfter()).toBe(9)
    const later = { lastDecisionId: 12, waits: [{ jobId: "j4", team: "b", seconds: 7200 }] }
    const second = parseExposition(await metrics.render({ ...snapshot, jobs: [{ team: "a", state: "completed", jobs: 9 }], admissions: later }, 1))
    expect(metrics.admittedAfter()).toBe(12)
    expect(second.get('frugal_jobs{team="a",state="running"}')).toBeUndefined()
    expect(second.get('frugal_jobs{team="a",state="completed"}')).toBe(9)
    expect(second.get('frugal_queue_wait_seconds_count{team="a"}')).toBe(3)
    expect(second.get('frugal_queue_wait_seconds_bucket{le="3600",team="b"}')).toBe(0)
    expect(second.get('frugal_queue_wait_seconds_bucket{le="7200",team="b"}')).toBe(1)
    expect(second.get('frugal_cost_usd_total{team="a",runner="ec2",purchase_option="spot"}')).toBe(60)
  })

  it("adds the process's own metrics under the frugal_ prefix", async () => {
    const metrics = makeServerMetrics()
    const names = metrics.names()
    expect(names).toContain("frugal_process_cpu_seconds_total")
    expect(names).toContain("frugal_nodejs_eventloop_lag_seconds")
    expect(names.every((name) => name.startsWith("frugal_"))).toBe(true)
  })

  it("keeps zone and reason labels bounded: the busiest keep their series, the rest add up under other", () => {
    const events = Array.from({ length: 70 }, (_, i) => ({
      zone: `zone-${String(i).padStart(2, "0")}`,
      kind: "interruption" as const,
      reason: `exit ${i % 30}`,
      attempts: 100 - i
    }))
    const bounded = boundedZoneEvents(events)
    const zones = new Set(bounded.map((row) => row.zone))
    const reasons = new Set(bounded.map((row) => row.reason))
    expect(zones.size).toBe(MAX_ZONE_LABELS + 1)
    expect(zones.has("other")).toBe(true)
    expect(zones.has("zone-00")).toBe(true)
    expect(zones.has("zone-69")).toBe(false)
    expect(reasons.size).toBe(MAX_REASON_LABELS + 1)
    expect(reasons.has("exit_0")).toBe(true)
    expect(bounded.reduce((sum, row) => sum + row.attempts, 0)).toBe(events.reduce((sum, row) => sum + row.attempts, 0))
    expect(labelValue("checkpointed (exit 75)")).toBe("checkpointed_exit_75")
    expect(labelValue(null)).toBe("unknown")
    expect(labelValue(`"}\n{evil="1`)).toBe("evil_1")
    expect(labelValue("x".repeat(200))).toHaveLength(64)
  })
})
