/**
 * The monitoring files in docs/ against what `/metrics` exports: docs/metrics.md documents every metric, the
 * Grafana dashboard is what its generator writes and queries only exported metrics, and the alert rules name only
 * exported metrics and pass `promtool check rules` and their unit tests (`promtool test rules`).
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { grafanaDashboardText } from "../src/metrics/GrafanaDashboard.ts"
import { makeServerMetrics } from "../src/metrics/ServerMetrics.ts"

const docs = (path: string) => fileURLToPath(new URL(`../../../docs/${path}`, import.meta.url))
const exported = new Set(makeServerMetrics().names())
const HISTOGRAMS = ["frugal_queue_wait_seconds", "frugal_scheduler_pass_duration_seconds", "frugal_nodejs_gc_duration_seconds"]

/** The metric names a PromQL expression reads (a histogram's `_bucket`, `_sum` and `_count` series by their metric). */
const metricsIn = (expr: string): ReadonlyArray<string> =>
  [...expr.matchAll(/\bfrugal_[a-z0-9_]+/g)].map((match) => {
    const name = match[0]
    const histogram = HISTOGRAMS.find((base) => [`${base}_bucket`, `${base}_sum`, `${base}_count`].includes(name))
    return histogram ?? name
  })

const Dashboard = Schema.Struct({
  panels: Schema.Array(Schema.Struct({ title: Schema.String, targets: Schema.Array(Schema.Struct({ expr: Schema.String })) }))
})

const promtool = "/usr/bin/promtool"
const hasPromtool = existsSync(promtool)

describe("monitoring docs", () => {
  it("document every metric /metrics exports in docs/metrics.md", () => {
    const text = readFileSync(docs("metrics.md"), "utf8")
    const missing = [...exported].filter((name) => !text.includes(`\`${name}\``))
    expect(missing).toEqual([])
    expect(exported.size).toBeGreaterThan(40)
  })

  it("ship the Grafana dashboard its generator writes, every panel querying only exported metrics", () => {
    const text = readFileSync(docs("grafana/frugal.json"), "utf8")
    expect(text).toBe(grafanaDashboardText())
    const dashboard = Schema.decodeUnknownSync(Schema.fromJsonString(Dashboard))(text)
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(15)
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets) {
        const names = metricsIn(target.expr)
        expect(names.length, target.expr).toBeGreaterThan(0)
        for (const name of names) expect(exported.has(name), `${panel.title}: ${name}`).toBe(true)
      }
    }
  })

  it("ship alert rules that name only exported metrics", () => {
    const rules = readFileSync(docs("prometheus/frugal-alerts.yml"), "utf8")
    const names = metricsIn(rules)
    expect(new Set(names)).toEqual(new Set(["frugal_budget_spent_usd", "frugal_budget_usd", "frugal_jobs_failing_repeatedly", "frugal_queue_oldest_wait_seconds", "frugal_scheduler_leader"]))
    for (const name of names) expect(exported.has(name), name).toBe(true)
  })

  it.skipIf(!hasPromtool)(`pass promtool check rules and their unit tests${hasPromtool ? "" : " (skipped: no promtool at /usr/bin/promtool; scripts/install-system-deps.sh installs Debian's prometheus)"}`, () => {
    const check = spawnSync(promtool, ["check", "rules", "frugal-alerts.yml"], { cwd: docs("prometheus"), encoding: "utf8" })
    expect(check.status, check.stdout + check.stderr).toBe(0)
    expect(check.stdout).toContain("SUCCESS: 4 rules found")
    const test = spawnSync(promtool, ["test", "rules", "frugal-alerts.test.yml"], { cwd: docs("prometheus"), encoding: "utf8" })
    expect(test.status, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toContain("SUCCESS")
  })
})
