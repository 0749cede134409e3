/**
 * A real Prometheus (Debian's `prometheus`, started here on loopback with a scrape every second and the alert rules
 * of docs/prometheus) scrapes the real `frugal server`'s /metrics with the scrape token while jobs run, end and are
 * cancelled. Its HTTP API must then hold the job counts, dollars, GPU-hours, interruptions and waits the ledger has,
 * load every alert rule, hold the budget alert of the team past 80 %, and answer every query of the Grafana dashboard.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { grafanaDashboard } from "../packages/server/src/metrics/GrafanaDashboard.ts"
import { repoRoot } from "./support/frugalCli.ts"
import { call, eventually, jobState, readLedger, type RunningServer, startServer, submit, tinyWorkload, writeConfig } from "./support/frugalServer.ts"
import { writeLedgerHistory } from "./support/ledgerHistory.ts"

const PROMETHEUS = "/usr/bin/prometheus"
const found = existsSync(PROMETHEUS)
const TOKEN_A = "prometheus-team-a-0123456789"
const TOKEN_B = "prometheus-team-b-0123456789"
const SCRAPE = "prometheus-scrape-0123456789"
const home = mkdtempSync(join(tmpdir(), "frugal-prometheus-"))
let server: RunningServer | undefined
let prometheus: ChildProcess | undefined
let prometheusUrl = ""
let prometheusLog = ""

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

beforeAll(async () => {
  if (!found) return
  const config = writeConfig(home, "scheduler.yaml", `
teams:
  - { name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 400, maxGpus: 16 }
  - { name: b, tokenEnv: FRUGAL_TOKEN_B, monthlyBudgetUsd: 0.3, maxGpus: 8 }
maxGpus: 24
metrics: { tokenEnv: FRUGAL_METRICS_TOKEN }
passEverySeconds: 0.5
`)
  const infra = writeConfig(home, "infra.yaml", "local: { hourlyPriceUsd: 120 }\n")
  server = await startServer(["--config", config, "--infra", infra], {
    FRUGAL_HOME: home,
    FRUGAL_TOKEN_A: TOKEN_A,
    FRUGAL_TOKEN_B: TOKEN_B,
    FRUGAL_METRICS_TOKEN: SCRAPE
  })
  await writeLedgerHistory(join(home, "ledger.sqlite"), "a")
  const target = new URL(server.url).host
  writeConfig(home, "scrape-token", SCRAPE)
  const prometheusConfig = writeConfig(home, "prometheus.yml", `
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["${join(repoRoot, "docs", "prometheus", "frugal-alerts.yml")}"]
scrape_configs:
  - job_name: frugal
    authorization: { type: Bearer, credentials_file: "${join(home, "scrape-token")}" }
    static_configs: [{ targets: ["${target}"] }]
`)
  const port = await freePort()
  prometheusUrl = `http://127.0.0.1:${port}`
  prometheus = spawn(PROMETHEUS, [
    `--config.file=${prometheusConfig}`,
    `--storage.tsdb.path=${join(home, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn"
  ], { stdio: ["ignore", "pipe", "pipe"] })
  prometheus.stderr?.setEncoding("utf8").on("data", (chunk: string) => (prometheusLog += chunk))
  await eventually("Prometheus to be ready", 30, async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined))
}, 90_000)

afterAll(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus?.once("exit", resolve))
    prometheus.kill("SIGTERM")
    await exited
  }
  await server?.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
})

const QueryAnswer = Schema.Struct({
  status: Schema.String,
  data: Schema.Struct({ result: Schema.Array(Schema.Struct({ metric: Schema.Record(Schema.String, Schema.String), value: Schema.Tuple([Schema.Number, Schema.String]) })) })
})

const query = async (promql: string) => {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`)
  return Schema.decodeUnknownSync(QueryAnswer)(await response.json())
}

/** The single value of `promql`, or undefined while Prometheus has none. */
const value = async (promql: string): Promise<number | undefined> => {
  const result = (await query(promql)).data.result
  return result.length === 1 ? Number(result[0]?.value[1]) : undefined
}

const Rules = Schema.Struct({
  data: Schema.Struct({ groups: Schema.Array(Schema.Struct({ rules: Schema.Array(Schema.Struct({ name: Schema.String, health: Schema.String, state: Schema.optionalKey(Schema.String) })) })) })
})

describe(`Prometheus scraping frugal server${found ? "" : ` (skipped: no Prometheus at ${PROMETHEUS}; scripts/install-system-deps.sh installs Debian's prometheus)`}`, () => {
  it.skipIf(!found)("holds the ledger's job counts, dollars, GPU-hours, interruptions and waits, and evaluates the alert rules", async () => {
    if (server === undefined) throw new Error("no server")
    const url = server.url
    const a1 = await submit(url, TOKEN_A, tinyWorkload("scraped-a-one"))
    const a2 = await submit(url, TOKEN_A, tinyWorkload("scraped-a-two", { steps: 100_000 }))
    const b1 = await submit(url, TOKEN_B, tinyWorkload("scraped-b-one", { steps: 500 }))
    await eventually("a2 to run", 30, async () => ((await jobState(url, TOKEN_A, a2)).state === "running" ? true : undefined))
    expect((await call(url, TOKEN_A, "POST", `/api/v1/jobs/${a2}/cancel`)).status).toBe(200)
    for (const [token, id] of [[TOKEN_A, a1], [TOKEN_A, a2], [TOKEN_B, b1]] as const) {
      await eventually(`${id} to end`, 60, async () => (["completed", "failed", "cancelled"].includes((await jobState(url, token, id)).state) ? true : undefined))
    }

    // What the ledger has, once everything has ended.
    const ledger = readLedger(join(home, "ledger.sqlite"))
    const teamOf = new Map(ledger.queue.map((row) => [row.id, row.team]))
    const costOf = (team: string) => ledger.attempts.filter((a) => teamOf.get(a.job_id) === team).reduce((sum, a) => sum + (a.cost_usd ?? 0), 0)
    const counts = new Map<string, number>()
    for (const row of ledger.queue) counts.set(`${row.team}/${row.state}`, (counts.get(`${row.team}/${row.state}`) ?? 0) + 1)
    expect([...counts.entries()].sort()).toEqual([["<svg onload=\"window.__xss=2\">/failed", 1], ["a/cancelled", 1], ["a/completed", 2], ["a/failed", 1], ["b/completed", 1]])
    expect(costOf("b")).toBeGreaterThan(0.24)

    // Scrapes run every second: wait until one after the last change has been taken.
    await eventually("Prometheus to hold both teams' dollars", 30, async () => {
      for (const team of ["a", "b"]) {
        const usd = await value(`sum(frugal_cost_usd_total{team="${team}"})`)
        if (usd === undefined || Math.abs(usd - costOf(team)) > 1e-9) return undefined
      }
      return true
    })
    for (const [key, jobs] of counts) {
      const [team = "", state = ""] = key.split("/")
      expect(await value(`frugal_jobs{team=${JSON.stringify(team)},state="${state}"}`), key).toBe(jobs)
    }
    expect(await value(`frugal_jobs{team="b",state="queued"}`)).toBe(0)
    expect(await value(`sum(frugal_cost_usd_total{team="b"})`)).toBeCloseTo(costOf("b"), 9)
    expect(await value(`frugal_cost_usd_total{team="a",runner="ec2",purchase_option="on-demand"}`)).toBeCloseTo(2 * 32.77, 6)
    expect(await value(`sum(frugal_gpu_hours_total{team="a",runner="ec2"})`)).toBeCloseTo(8 * 3, 6)
    expect(await value(`frugal_interruptions_total{zone="use1-az4",reason="Server.SpotInstanceTermination"}`)).toBe(1)
    expect(await value(`frugal_provisioning_failures_total{zone="use1-az6",reason="InsufficientInstanceCapacity"}`)).toBe(1)
    const admitted = ledger.decisions.filter((d) => d.decision === "admitted" && teamOf.get(d.job_id) === "a")
    expect(await value(`frugal_queue_wait_seconds_count{team="a"}`)).toBe(new Set(admitted.map((d) => d.job_id)).size)
    expect(await value(`frugal_scheduler_leader`)).toBe(1)
    expect(await value(`frugal_scheduler_pass_duration_seconds_count`)).toBeGreaterThan(0)
    expect(await value(`frugal_budget_spent_usd{team="b"}`)).toBeCloseTo(costOf("b"), 9)

    // Every rule loaded and evaluated; team b (past 80 % of its budget) holds the budget alert, pending its 5 minutes.
    const rules = Schema.decodeUnknownSync(Rules)(await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()).data.groups.flatMap((group) => group.rules)
    expect(rules.map((rule) => [rule.name, rule.health])).toEqual([
      ["FrugalBudget80PercentSpent", "ok"],
      ["FrugalJobFailingRepeatedly", "ok"],
      ["FrugalQueueWaitOverAnHour", "ok"],
      ["FrugalNoScheduler", "ok"]
    ])
    await eventually("the budget alert of team b", 15, async () => ((await value(`ALERTS{alertname="FrugalBudget80PercentSpent",team="b"}`)) === 1 ? true : undefined))
    expect((await query(`ALERTS{alertname="FrugalBudget80PercentSpent"}`)).data.result.map((row) => [row.metric["team"], row.metric["alertstate"]])).toEqual([["b", "pending"]])

    // Every query of the Grafana dashboard is valid PromQL over these metrics.
    const dashboard = Schema.decodeUnknownSync(Schema.Struct({ panels: Schema.Array(Schema.Struct({ title: Schema.String, targets: Schema.Array(Schema.Struct({ expr: Schema.String })) })) }))(grafanaDashboard())
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const answer = await query(target.expr.replaceAll("$team", ".*"))
        expect(answer.status, `${panel.title}: ${target.expr}`).toBe("success")
      }
    }
    expect(prometheusLog).not.toContain("level=error")
  }, 85_000)
})
