/**
 * A job's page: what it is and where it stands (with the cancel button while it can be cancelled), its attempts as
 * a timeline and a table (placement, outcome, reason, cost), its checkpoints, the scheduler's decisions about it, the
 * end of its latest log, and the plan it was submitted with (its ranked placements: the failover order).
 */
import type { AttemptRecord } from "@frugal/runner"
import type { JobPageView } from "@frugal/scheduler"
import type { Charts } from "./Charts.ts"
import { bytes, count, hours, usd } from "./Format.ts"
import { html, type VNode } from "./Html.ts"
import { type RenderedRegion, renderRegion } from "./Layout.ts"
import type { LogTail } from "./LogTail.ts"
import { chart, jobLink, time } from "./OverviewPage.ts"

export interface JobLog {
  readonly attempt: number
  readonly tail: LogTail | null
}

const where = (attempt: AttemptRecord): string => {
  const placement = attempt.placement
  const zone = placement.availabilityZone === null ? placement.region : `${placement.availabilityZone} (${placement.region})`
  const instances = placement.instanceCount > 1 ? `${placement.instanceCount} × ` : ""
  return placement.purchaseOption === "local" ? "this machine" : `${instances}${placement.instanceType} in ${zone}`
}

const cancellable = (view: JobPageView): boolean => view.job.state === "queued" || (view.job.state === "running" && !view.job.cancelRequested)

const facts = (view: JobPageView, csrf: string): VNode => {
  const job = view.job
  return html`
    <h1>${job.name} <span class=${`state state-${job.state}`}>${job.state}</span></h1>
    <dl class="facts">
      <dt>Job</dt><dd class="id">${job.id}</dd>
      <dt>Team</dt><dd>${job.team}</dd>
      ${job.state === "queued" ? html`<dt>Waiting for</dt><dd><strong>${job.reason ?? "a scheduling pass"}</strong>${job.detail === null ? null : html` · ${job.detail}`}</dd>` : null}
      ${job.state !== "queued" && job.detail !== null ? html`<dt>Detail</dt><dd>${job.detail}</dd>` : null}
      ${job.cancelRequested && job.state === "running" ? html`<dt>Cancel</dt><dd>asked: it checkpoints and stops at the next pass</dd>` : null}
      <dt>Priority</dt><dd>${job.priority}</dd>
      <dt>GPUs</dt><dd>${count(job.gpus, "GPU")}</dd>
      <dt>Expected</dt><dd>${usd(job.expectedCostUsd)} over ${hours(job.expectedHours)}${job.deadlineHours === null ? null : html` · deadline ${hours(job.deadlineHours)} after submission`}</dd>
      <dt>Cost so far</dt><dd>${usd(view.costUsd)}</dd>
      <dt>Submitted</dt><dd>${time(job.submittedAtMillis)}</dd>
      ${job.admittedAtMillis === null ? null : html`<dt>Admitted</dt><dd>${time(job.admittedAtMillis)}</dd>`}
      ${job.endedAtMillis === null ? null : html`<dt>Ended</dt><dd>${time(job.endedAtMillis)}</dd>`}
      ${job.preemptions === 0 ? null : html`<dt>Preempted</dt><dd>${count(job.preemptions, "time")}</dd>`}
      ${view.run?.finalStep === null || view.run === undefined ? null : html`<dt>Final step</dt><dd>${view.run.finalStep}</dd>`}
    </dl>
    ${cancellable(view) ? html`
      <form method="post" action=${`${jobLink(job.id)}/cancel`} data-confirm=${`Cancel ${job.name}? A running job writes its checkpoint and stops.`}>
        <input type="hidden" name="csrf" value=${csrf} />
        <button type="submit" class="danger" id="cancel-job">Cancel job</button>
      </form>` : null}`
}

const attempts = (view: JobPageView, charts: Charts): VNode => html`
  <h2 id="attempts">Attempts</h2>
  ${view.attempts.length === 0 ? html`<p class="note">No attempt yet${view.job.state === "queued" ? ": the job waits in the queue." : "."}</p>` : html`
    ${chart(charts.attempts(view.attempts))}
    <div class="table-wrap"><table>
      <caption>Each attempt in order: where it ran, how it ended and what it cost (a running one as accrued).</caption>
      <thead><tr>
        <th scope="col" class="num">#</th><th scope="col">Engine</th><th scope="col">Placement</th><th scope="col">Purchase</th>
        <th scope="col" class="num">Price</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Started</th><th scope="col">Ended</th>
        <th scope="col" class="num">Steps</th><th scope="col" class="num">Cost</th>
      </tr></thead>
      <tbody>${view.attempts.map((attempt) => html`
        <tr>
          <td class="num">${attempt.sequence}</td>
          <td>${attempt.runner}</td>
          <td>${where(attempt)}</td>
          <td>${attempt.placement.purchaseOption}</td>
          <td class="num">${usd(attempt.placement.hourlyPriceUsd)}/h</td>
          <td><span class=${`outcome-${attempt.outcome}`}>${attempt.outcome}</span></td>
          <td>${attempt.reason ?? ""}</td>
          <td>${time(attempt.startedAtMillis)}</td>
          <td>${attempt.endedAtMillis === null ? html`<span class="note">seen ${time(attempt.lastSeenAtMillis, "ago")}</span>` : time(attempt.endedAtMillis)}</td>
          <td class="num">${attempt.resumedFromStep === null ? "" : `${attempt.resumedFromStep} → `}${attempt.lastStep ?? ""}</td>
          <td class="num">${usd(attempt.costUsd)}</td>
        </tr>`)}
      </tbody>
    </table></div>`}`

const checkpoints = (view: JobPageView): VNode => html`
  <h2 id="checkpoints">Checkpoints</h2>
  ${view.checkpointCount === 0 ? html`<p class="note">No checkpoint written yet.</p>` : html`
    <div class="table-wrap"><table>
      <caption>${view.checkpointCount > view.checkpoints.length ? `The ${view.checkpoints.length} newest of ${view.checkpointCount}` : `${count(view.checkpointCount, "checkpoint")}, newest first`}</caption>
      <thead><tr><th scope="col" class="num">Step</th><th scope="col">Written</th><th scope="col" class="num">Attempt</th><th scope="col" class="num">Size</th><th scope="col" class="num">Training paused</th></tr></thead>
      <tbody>${view.checkpoints.map((checkpoint) => html`
        <tr>
          <td class="num">${checkpoint.step ?? ""}</td>
          <td>${time(checkpoint.timeMillis)}</td>
          <td class="num">${view.attempts.find((attempt) => attempt.id === checkpoint.attemptId)?.sequence ?? ""}</td>
          <td class="num">${checkpoint.bytes === null ? "" : bytes(checkpoint.bytes)}</td>
          <td class="num">${checkpoint.blockingSeconds === null ? "" : `${checkpoint.blockingSeconds.toFixed(2)} s`}</td>
        </tr>`)}
      </tbody>
    </table></div>`}`

const decisions = (view: JobPageView): VNode => html`
  <h2 id="decisions">Scheduler decisions</h2>
  <ol class="decisions">${view.decisions.map((decision) => html`
    <li>${time(decision.timeMillis)}: <strong>${decision.decision}</strong>${decision.reason === null ? null : html` (${decision.reason})`}${decision.detail === null ? null : html` · ${decision.detail}`}</li>`)}
  </ol>`

const log = (job: JobLog | null): VNode => html`
  <h2 id="log">Log</h2>
  ${job === null
    ? html`<p class="note">No attempt has a log file on this server (engines that keep logs elsewhere: <code>frugal logs JOB</code>).</p>`
    : job.tail === null
    ? html`<p class="note">The log of attempt ${job.attempt} cannot be read on this server.</p>`
    : job.tail.lines.length === 0
    ? html`<p class="note">The log of attempt ${job.attempt} is empty.</p>`
    : html`<p class="note">Attempt ${job.attempt}${job.tail.truncated ? `: the last ${count(job.tail.lines.length, "line")}` : ""}</p>
      <pre class="log" tabindex="0" aria-label=${`Log of attempt ${job.attempt}`}>${job.tail.lines.join("\n")}</pre>`}`

/** The plan the job was submitted with: its ranked placements, the order the engines fail over in. */
export const planSection = (view: JobPageView): VNode => html`
  <section class="region" aria-label="Plan">
    <h2 id="plan">Plan</h2>
    <div class="table-wrap"><table>
      <caption>${view.job.planned ? "Ranked placements, first choice first: the failover order." : "Not priced by a plan: charged at this machine's price, reserving constraints.budgetUsd."}</caption>
      <thead><tr><th scope="col" class="num">Rank</th><th scope="col">Engine</th><th scope="col">Instance</th><th scope="col">Where</th><th scope="col">Purchase</th><th scope="col" class="num">Price</th><th scope="col" class="num">Expected time</th><th scope="col" class="num">Expected cost</th></tr></thead>
      <tbody>${view.job.placements.map((ranked, i) => html`
        <tr>
          <td class="num">${i + 1}</td><td>${ranked.placement.runner ?? ""}</td><td>${ranked.placement.instanceType}</td>
          <td>${ranked.placement.availabilityZone ?? ranked.placement.region}</td><td>${ranked.placement.purchaseOption}</td>
          <td class="num">${usd(ranked.placement.hourlyPriceUsd)}/h</td><td class="num">${hours(ranked.expectedHours)}</td><td class="num">${usd(ranked.expectedCostUsd)}</td>
        </tr>`)}
      </tbody>
    </table></div>
  </section>`

export const jobRegions = (view: JobPageView, csrf: string, charts: Charts, jobLog: JobLog | null): ReadonlyArray<RenderedRegion> => [
  renderRegion("job", "The job", facts(view, csrf)),
  renderRegion("attempts", "Attempts", attempts(view, charts)),
  renderRegion("checkpoints", "Checkpoints", checkpoints(view)),
  renderRegion("decisions", "Scheduler decisions", decisions(view)),
  renderRegion("log", "Log", log(jobLog))
]
