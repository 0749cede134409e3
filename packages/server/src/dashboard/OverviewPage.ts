/**
 * The dashboard's first page: the queue (state, why a job waits, team, priority, expected and actual cost), each
 * team's spend against its budget this month, interruptions and failovers by zone, the last waste report, and
 * services. Rendered from `overviewView` (the scheduler's read model); every part but the services panel is a live
 * region.
 */
import type { ListedJob, OverviewView } from "@frugal/scheduler"
import type { Charts, ThemedSvg } from "./Charts.ts"
import { count, iso, usd } from "./Format.ts"
import { html, rawSvg, type VNode } from "./Html.ts"
import { type RenderedRegion, renderRegion } from "./Layout.ts"

export const jobLink = (id: string): string => `/jobs/${encodeURIComponent(id)}`

export const time = (millis: number | null, format: "datetime" | "ago" = "datetime"): VNode | null =>
  millis === null ? null : html`<time datetime=${iso(millis)} data-format=${format}>${iso(millis).replace("T", " ").slice(0, 19)} UTC</time>`

export const chart = (svg: ThemedSvg): VNode =>
  html`<figure class="chart" role="img" aria-label=${svg.description}>${rawSvg("chart-light", svg.light)}${rawSvg("chart-dark", svg.dark)}</figure>`

const why = (job: ListedJob): VNode => {
  if (job.state === "queued") return html`<strong>${job.reason ?? "waiting"}</strong>${job.detail === null ? null : html`<div class="detail">${job.detail}</div>`}`
  if (job.state === "running") return html`${job.cancelRequested ? html`<strong>cancelling</strong> ` : null}<span class="detail">${job.detail ?? ""}</span>`
  return html`<span class="detail">${job.detail ?? ""}</span>`
}

const jobRow = (job: ListedJob): VNode => html`
  <tr>
    <td><a href=${jobLink(job.id)}>${job.name}</a><div class="id">${job.id}</div></td>
    <td>${job.team}</td>
    <td><span class=${`state state-${job.state}`}>${job.state}</span></td>
    <td class="why">${why(job)}</td>
    <td class="num">${job.priority}</td>
    <td class="num">${count(job.gpus, "GPU")}</td>
    <td class="num">${usd(job.expectedCostUsd)}</td>
    <td class="num">${usd(job.costUsd)}</td>
    <td>${time(job.submittedAtMillis)}${job.state === "queued" ? html`<div class="detail">waiting since ${time(job.submittedAtMillis, "ago")}</div>` : null}</td>
  </tr>`

const jobTable = (caption: string, jobs: ReadonlyArray<ListedJob>, empty: string): VNode =>
  jobs.length === 0 ? html`<p class="note">${empty}</p>` : html`
    <div class="table-wrap"><table>
      <caption>${caption}</caption>
      <thead><tr>
        <th scope="col">Job</th><th scope="col">Team</th><th scope="col">State</th><th scope="col">Why</th>
        <th scope="col" class="num">Priority</th><th scope="col" class="num">GPUs</th>
        <th scope="col" class="num">Expected cost</th><th scope="col" class="num">Cost so far</th><th scope="col">Submitted</th>
      </tr></thead>
      <tbody>${jobs.map(jobRow)}</tbody>
    </table></div>`

const summary = (view: OverviewView): VNode => html`
  <ul class="counts" aria-label="Jobs by state">
    ${view.counts.map((row) => html`<li><strong class=${`state-${row.state}`}>${row.jobs}</strong>${row.state}</li>`)}
  </ul>
  ${view.failingJobs === 0 ? null : html`<p class="alert" role="alert">${count(view.failingJobs, "job")} failing attempt after attempt: open ${view.failingJobs === 1 ? "it" : "them"} below to see why.</p>`}`

const jobsIn = (view: OverviewView, states: ReadonlyArray<string>) => view.counts.filter((row) => states.includes(row.state)).reduce((sum, row) => sum + row.jobs, 0)

const queue = (view: OverviewView): VNode => {
  const shown = view.listing.active.length
  const active = jobsIn(view, ["queued", "running"])
  return html`
    <h2 id="queue">Queue</h2>
    ${jobTable(shown < active ? `Waiting and running: the ${shown} newest of ${active}` : "Waiting and running, newest first", view.listing.active, "Nothing waits or runs.")}`
}

/** Apart from the queue: a running job's cost changes the queue at every heartbeat, not this. */
const ended = (view: OverviewView): VNode => html`
  <h2 id="ended">Recently ended</h2>
  ${jobTable(`The ${view.listing.ended.length} latest to end of ${jobsIn(view, ["completed", "failed", "cancelled"])}`, view.listing.ended, "No job has ended yet.")}`

const budgets = (view: OverviewView, charts: Charts): VNode => html`
  <h2 id="budgets">Spend against budget, ${view.month} (UTC)</h2>
  ${view.teams.length === 0 ? html`<p class="note">No team.</p>` : html`
    ${chart(charts.budgets(view.teams))}
    <div class="table-wrap"><table>
      <caption>Reserved: what running jobs are still expected to cost. Left: budget − spent − reserved.</caption>
      <thead><tr>
        <th scope="col">Team</th><th scope="col" class="num">Budget</th><th scope="col" class="num">Spent</th><th scope="col" class="num">Reserved</th>
        <th scope="col" class="num">Left</th><th scope="col" class="num">Spent share</th><th scope="col" class="num">GPUs in use</th>
        <th scope="col" class="num">Running</th><th scope="col" class="num">Queued</th>
      </tr></thead>
      <tbody>${view.teams.map((team) => html`
        <tr>
          <th scope="row">${team.team}</th>
          <td class="num">${usd(team.monthlyBudgetUsd)}</td><td class="num">${usd(team.spentUsd)}</td><td class="num">${usd(team.reservedUsd)}</td>
          <td class="num">${usd(team.remainingUsd)}</td>
          <td class="num">${team.monthlyBudgetUsd === 0 ? "–" : `${(100 * team.spentUsd / team.monthlyBudgetUsd).toFixed(1)} %`}</td>
          <td class="num">${team.gpusInUse} of ${count(team.maxGpus, "GPU")}</td>
          <td class="num">${count(team.runningJobs, "job")}</td><td class="num">${count(team.queuedJobs, "job")}</td>
        </tr>`)}
      </tbody>
    </table></div>`}`

const zones = (view: OverviewView, charts: Charts): VNode => html`
  <h2 id="zones">Interruptions and failovers by zone, last ${view.zoneWindowDays} days</h2>
  ${view.zones.length === 0 ? html`<p class="note">No attempt was interrupted, refused capacity or moved to another zone in the last ${view.zoneWindowDays} days.</p>` : html`
    ${chart(charts.zones(view.zones))}
    <div class="table-wrap"><table>
      <caption>A failover is an attempt after which the job's next attempt ran in another zone.</caption>
      <thead><tr><th scope="col">Zone</th><th scope="col" class="num">Interrupted</th><th scope="col" class="num">Not provisioned</th><th scope="col" class="num">Failed over</th><th scope="col">Reasons</th></tr></thead>
      <tbody>${view.zones.map((zone) => html`
        <tr>
          <th scope="row">${zone.zone}</th>
          <td class="num">${count(zone.interruptions, "attempt")}</td><td class="num">${count(zone.provisionFailures, "attempt")}</td><td class="num">${count(zone.failovers, "attempt")}</td>
          <td>${zone.reasons.map((reason, i) => html`${i === 0 ? null : ", "}${reason.reason} (${reason.attempts})`)}</td>
        </tr>`)}
      </tbody>
    </table></div>`}`

const waste = (view: OverviewView): VNode => html`
  <h2 id="waste">Waste</h2>
  <p class="note">This ledger keeps no waste findings: <code>frugal report</code> computes them from Cost Explorer, GPU utilisation and the ledger, and delivers each report to files or Slack.</p>
  ${view.lastReport === null
    ? html`<p>No scheduled waste report has been delivered from this ledger.</p>`
    : html`<p>Last report delivered ${time(view.lastReport.deliveredAtMillis)} to ${view.lastReport.destination}, for ${view.lastReport.period.start} to ${view.lastReport.period.end}.</p>`}`

/** The services panel: this server runs no inference services, and says so. */
export const servicesPanel = (): VNode => html`
  <section class="region" aria-label="Services">
    <h2 id="services">Services</h2>
    <p>No services: this server schedules training and batch jobs. Inference services scale themselves on EC2 Auto Scaling or Kubernetes; <code>frugal service apply</code> creates them and <code>frugal service status FILE</code> reports them.</p>
  </section>`

export const overviewRegions = (view: OverviewView, charts: Charts): ReadonlyArray<RenderedRegion> => [
  renderRegion("summary", "Jobs by state", summary(view)),
  renderRegion("queue", "Queue", queue(view)),
  renderRegion("ended", "Recently ended", ended(view)),
  renderRegion("budgets", "Budgets", budgets(view, charts)),
  renderRegion("zones", "Zones", zones(view, charts)),
  renderRegion("waste", "Waste", waste(view))
]
