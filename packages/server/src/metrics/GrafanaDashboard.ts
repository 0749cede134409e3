/**
 * The Grafana dashboard of `frugal server`'s metrics, as data: `scripts/generate-grafana-dashboard.ts` writes it to
 * docs/grafana/frugal.json (import it in Grafana and pick the Prometheus data source), and a test regenerates and
 * compares it and checks that every query names only metrics `/metrics` exports.
 *
 * Every replica reports the same ledger, so queries take the largest value over replicas (`max without (instance)`)
 * before adding teams up: scraping several replicas never counts a dollar twice.
 */

export const GRAFANA_GENERATOR = "scripts/generate-grafana-dashboard.ts"

interface Panel {
  readonly title: string
  readonly type: "stat" | "timeseries" | "bargauge"
  readonly unit: string
  readonly description: string
  readonly targets: ReadonlyArray<{ readonly expr: string; readonly legend: string }>
  /** Width in grid columns (24 across). */
  readonly width: number
}

const TEAM = `team=~"$team"`
/** One value per series whatever the number of replicas scraped. */
const once = (expr: string) => `max without (instance) (${expr})`

const PANELS: ReadonlyArray<Panel> = [
  { title: "Queued jobs", type: "stat", unit: "short", width: 6, description: "Jobs waiting in the queue", targets: [{ expr: `sum(${once(`frugal_jobs{state="queued",${TEAM}}`)})`, legend: "queued" }] },
  { title: "Running jobs", type: "stat", unit: "short", width: 6, description: "Jobs running now", targets: [{ expr: `sum(${once(`frugal_jobs{state="running",${TEAM}}`)})`, legend: "running" }] },
  {
    title: "Jobs failing repeatedly",
    type: "stat",
    unit: "short",
    width: 6,
    description: "Waiting or running jobs whose last 3 or more attempts crashed or were not provisioned",
    targets: [{ expr: `sum(${once(`frugal_jobs_failing_repeatedly{${TEAM}}`)})`, legend: "failing" }]
  },
  { title: "Scheduler leading", type: "stat", unit: "bool_yes_no", width: 6, description: "Whether a replica runs the scheduling loop", targets: [{ expr: "max(frugal_scheduler_leader)", legend: "leading" }] },
  {
    title: "Jobs by state",
    type: "timeseries",
    unit: "short",
    width: 12,
    description: "Waiting and running jobs over time",
    targets: [{ expr: `sum by (state) (${once(`frugal_jobs{state=~"queued|running",${TEAM}}`)})`, legend: "{{state}}" }]
  },
  {
    title: "Longest wait in the queue",
    type: "timeseries",
    unit: "s",
    width: 12,
    description: "How long the longest-waiting queued job of each team has waited",
    targets: [{ expr: once(`frugal_queue_oldest_wait_seconds{${TEAM}}`), legend: "{{team}}" }]
  },
  {
    title: "Queue wait before admission (median and 90th percentile, last hour)",
    type: "timeseries",
    unit: "s",
    width: 12,
    description: "Submission to first admission of the jobs admitted in the last hour",
    targets: [
      { expr: `histogram_quantile(0.5, sum by (le, team) (${once(`increase(frugal_queue_wait_seconds_bucket{${TEAM}}[1h])`)}))`, legend: "p50 {{team}}" },
      { expr: `histogram_quantile(0.9, sum by (le, team) (${once(`increase(frugal_queue_wait_seconds_bucket{${TEAM}}[1h])`)}))`, legend: "p90 {{team}}" }
    ]
  },
  {
    title: "Spend per hour by team",
    type: "timeseries",
    unit: "currencyUSD",
    width: 12,
    description: "Dollars of every attempt, as a rate per hour",
    targets: [{ expr: `sum by (team) (${once(`rate(frugal_cost_usd_total{${TEAM}}[1h])`)}) * 3600`, legend: "{{team}}" }]
  },
  {
    title: "Budget spent this month",
    type: "bargauge",
    unit: "percentunit",
    width: 12,
    description: "Spent this calendar month (UTC) over the monthly budget; the alert fires at 80 %",
    targets: [{ expr: `max by (team) (frugal_budget_spent_usd{${TEAM}}) / max by (team) (frugal_budget_usd{${TEAM}} > 0)`, legend: "{{team}}" }]
  },
  {
    title: "Budget left this month",
    type: "bargauge",
    unit: "currencyUSD",
    width: 12,
    description: "Budget − spent − what running jobs are still expected to cost",
    targets: [{ expr: `max by (team) (frugal_budget_remaining_usd{${TEAM}})`, legend: "{{team}}" }]
  },
  {
    title: "GPU-hours per hour by purchase option",
    type: "timeseries",
    unit: "short",
    width: 12,
    description: "GPUs busy on average, by how they were bought",
    targets: [{ expr: `sum by (purchase_option) (${once(`rate(frugal_gpu_hours_total{${TEAM}}[1h])`)}) * 3600`, legend: "{{purchase_option}}" }]
  },
  {
    title: "Spend per hour by engine and purchase option",
    type: "timeseries",
    unit: "currencyUSD",
    width: 12,
    description: "Where the money goes: EC2, Kubernetes, Slurm or this machine; spot, on-demand or committed",
    targets: [{ expr: `sum by (runner, purchase_option) (${once(`rate(frugal_cost_usd_total{${TEAM}}[1h])`)}) * 3600`, legend: "{{runner}} {{purchase_option}}" }]
  },
  {
    title: "Interruptions by zone (per day)",
    type: "timeseries",
    unit: "short",
    width: 12,
    description: "Attempts interrupted (spot reclaims, pre-emptions) in each zone over the last day",
    targets: [{ expr: `sum by (zone) (${once("increase(frugal_interruptions_total[1d])")})`, legend: "{{zone}}" }]
  },
  {
    title: "Provisioning failures by zone and reason (per day)",
    type: "timeseries",
    unit: "short",
    width: 12,
    description: "Attempts the engine could not start: no capacity, a quota",
    targets: [{ expr: `sum by (zone, reason) (${once("increase(frugal_provisioning_failures_total[1d])")})`, legend: "{{zone}} {{reason}}" }]
  },
  {
    title: "Scheduling pass duration (99th percentile)",
    type: "timeseries",
    unit: "s",
    width: 8,
    description: "Time one scheduling pass takes on the leading replica",
    targets: [{ expr: "histogram_quantile(0.99, sum by (le) (rate(frugal_scheduler_pass_duration_seconds_bucket[5m])))", legend: "p99" }]
  },
  {
    title: "Server CPU",
    type: "timeseries",
    unit: "percentunit",
    width: 8,
    description: "CPU time of each replica's process",
    targets: [{ expr: "rate(frugal_process_cpu_seconds_total[5m])", legend: "{{instance}}" }]
  },
  {
    title: "Server memory and event loop lag",
    type: "timeseries",
    unit: "bytes",
    width: 8,
    description: "Resident memory of each replica, and its event loop's 99th-percentile lag (right axis)",
    targets: [
      { expr: "frugal_process_resident_memory_bytes", legend: "memory {{instance}}" },
      { expr: "frugal_nodejs_eventloop_lag_p99_seconds", legend: "event loop lag p99 {{instance}}" }
    ]
  }
]

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

const DATASOURCE = { type: "prometheus", uid: "${DS_PROMETHEUS}" }

/** Lays the panels out left to right, 24 columns a row. */
const layout = (panels: ReadonlyArray<Panel>): ReadonlyArray<Json> => {
  let x = 0
  let y = 0
  return panels.map((panel, i) => {
    const height = panel.type === "stat" ? 4 : 8
    if (x + panel.width > 24) {
      x = 0
      y += 8
    }
    const placed = {
      id: i + 1,
      type: panel.type,
      title: panel.title,
      description: panel.description,
      datasource: DATASOURCE,
      gridPos: { h: height, w: panel.width, x, y },
      fieldConfig: {
        defaults: { unit: panel.unit },
        overrides: panel.title.includes("event loop")
          ? [{ matcher: { id: "byRegexp", options: "event loop.*" }, properties: [{ id: "unit", value: "s" }, { id: "custom.axisPlacement", value: "right" }] }]
          : []
      },
      options: panel.type === "bargauge" ? { orientation: "horizontal", displayMode: "gradient" } : {},
      targets: panel.targets.map((target, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: target.expr, legendFormat: target.legend }))
    }
    x += panel.width
    if (panel.type === "stat" && x >= 24) {
      x = 0
      y += height
    }
    return placed
  })
}

export const grafanaDashboard = (): Json => ({
  __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", description: "The Prometheus that scrapes frugal server", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
  title: "Frugal",
  uid: "frugal",
  description: `Queue, spend, budgets, interruptions and the scheduler of frugal server (docs/metrics.md). GENERATED by ${GRAFANA_GENERATOR}.`,
  tags: ["frugal"],
  timezone: "browser",
  schemaVersion: 39,
  version: 1,
  editable: true,
  refresh: "30s",
  time: { from: "now-24h", to: "now" },
  templating: {
    list: [{
      name: "team",
      label: "Team",
      type: "query",
      datasource: DATASOURCE,
      query: { query: "label_values(frugal_budget_usd, team)", refId: "team" },
      definition: "label_values(frugal_budget_usd, team)",
      refresh: 2,
      multi: true,
      includeAll: true,
      allValue: ".*",
      current: { text: "All", value: "$__all" }
    }]
  },
  panels: layout(PANELS)
})

/** docs/grafana/frugal.json: two-space JSON with a trailing newline. */
export const grafanaDashboardText = (): string => `${JSON.stringify(grafanaDashboard(), null, 2)}\n`
