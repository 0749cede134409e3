/**
 * What the dashboard's pages show, as data (the pages only render it): the overview (the queue, each team's month,
 * interruptions and failovers by zone, the last waste report delivered) for the teams a reader may see, and one
 * job's page (its plan, attempts, decisions and checkpoints).
 */
import { type EventRecord, Ledger, type LedgerError } from "@frugal/runner"
import { Clock, Effect, Schema } from "effect"
import { QUEUE_STATES, type QueueState } from "../QueueStates.ts"
import { jobView, type JobView } from "../QueueActions.ts"
import type { SchedulerPolicy } from "../SchedulerPolicy.ts"
import type { QueueStore } from "../store/QueueStore.ts"
import type { QueueStoreError, SchedulerSql } from "../store/SchedulerSql.ts"
import type { TeamUsage } from "../Usage.ts"
import {
  activeAttemptEndings,
  jobCounts,
  lastReportDelivery,
  type QueueListing,
  queueListing,
  type ReportDelivery,
} from "./LedgerReadModel.ts"
import { zoneEvents } from "./ClosedAttempts.ts"
import type { TeamScope } from "./ReadModelSql.ts"
import { teamMonths } from "./MetricsSnapshot.ts"
import { failingJobs } from "./Observations.ts"

export interface ZoneSummary {
  readonly zone: string
  readonly interruptions: number
  readonly provisionFailures: number
  /** Attempts after which the job's next attempt ran in another zone. */
  readonly failovers: number
  /** The reasons recorded, most frequent first. */
  readonly reasons: ReadonlyArray<{ readonly reason: string; readonly attempts: number }>
}

export interface OverviewView {
  readonly nowMillis: number
  /** `YYYY-MM` (UTC), the month budgets count. */
  readonly month: string
  readonly zoneWindowDays: number
  /** Jobs per state over the visible teams (every state, 0 where none). */
  readonly counts: ReadonlyArray<{ readonly state: QueueState; readonly jobs: number }>
  readonly listing: QueueListing
  readonly teams: ReadonlyArray<TeamUsage>
  readonly zones: ReadonlyArray<ZoneSummary>
  /** Waiting or running jobs whose last attempts all failed (Observations.FAILING_STREAK in a row). */
  readonly failingJobs: number
  readonly lastReport: ReportDelivery | null
}

export interface OverviewOptions {
  readonly activeLimit?: number
  readonly endedLimit?: number
  /** Zones count interruptions, provisioning failures and failovers of this many days (default 30). */
  readonly zoneWindowDays?: number
}

/** Per zone: interruptions, provisioning failures and failovers away from it, busiest first. */
export const summarizeZones = (
  events: ReadonlyArray<{ readonly zone: string; readonly kind: "interruption" | "provision-failure"; readonly reason: string | null; readonly attempts: number }>,
  failovers: ReadonlyArray<{ readonly zone: string; readonly attempts: number }>
): ReadonlyArray<ZoneSummary> => {
  const zones = new Map<string, { interruptions: number; provisionFailures: number; failovers: number; reasons: Map<string, number> }>()
  const entry = (zone: string) => {
    const known = zones.get(zone)
    if (known !== undefined) return known
    const created = { interruptions: 0, provisionFailures: 0, failovers: 0, reasons: new Map<string, number>() }
    zones.set(zone, created)
    return created
  }
  for (const event of events) {
    const zone = entry(event.zone)
    if (event.kind === "interruption") zone.interruptions += event.attempts
    else zone.provisionFailures += event.attempts
    const reason = event.reason ?? "unknown"
    zone.reasons.set(reason, (zone.reasons.get(reason) ?? 0) + event.attempts)
  }
  for (const failover of failovers) entry(failover.zone).failovers += failover.attempts
  return [...zones.entries()]
    .map(([zone, counts]) => ({
      zone,
      interruptions: counts.interruptions,
      provisionFailures: counts.provisionFailures,
      failovers: counts.failovers,
      reasons: [...counts.reasons.entries()].map(([reason, attempts]) => ({ reason, attempts })).sort((a, b) => b.attempts - a.attempts || a.reason.localeCompare(b.reason))
    }))
    .sort((a, b) => b.interruptions + b.provisionFailures + b.failovers - (a.interruptions + a.provisionFailures + a.failovers) || a.zone.localeCompare(b.zone))
}

export const overviewView = (
  policy: SchedulerPolicy,
  scope: TeamScope,
  options: OverviewOptions = {}
): Effect.Effect<OverviewView, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const nowMillis = yield* Clock.currentTimeMillis
    const zoneWindowDays = options.zoneWindowDays ?? 30
    const counts = yield* jobCounts(scope)
    // From the start of the hour, so that every poll within the hour asks the same question (ClosedAttempts keeps it).
    const zones = yield* zoneEvents(Math.floor((nowMillis - zoneWindowDays * 86_400_000) / 3_600_000) * 3_600_000, scope)
    const failing = failingJobs(yield* activeAttemptEndings(scope))
    return {
      nowMillis,
      month: new Date(nowMillis).toISOString().slice(0, 7),
      zoneWindowDays,
      counts: QUEUE_STATES.map((state) => ({ state, jobs: counts.filter((row) => row.state === state).reduce((sum, row) => sum + row.jobs, 0) })),
      listing: yield* queueListing(scope, { activeLimit: options.activeLimit ?? 200, endedLimit: options.endedLimit ?? 50 }),
      teams: yield* teamMonths(policy, scope),
      zones: summarizeZones(zones.events, zones.failovers),
      failingJobs: [...failing.values()].reduce((sum, jobs) => sum + jobs, 0),
      lastReport: yield* lastReportDelivery
    }
  })

export interface CheckpointRecord {
  readonly attemptId: string
  readonly timeMillis: number
  readonly step: number | null
  readonly bytes: number | null
  readonly blockingSeconds: number | null
}

export interface JobPageView extends JobView {
  /** Checkpoints written, newest first (at most `checkpointLimit`), and how many in all. */
  readonly checkpoints: ReadonlyArray<CheckpointRecord>
  readonly checkpointCount: number
}

const CheckpointPayload = Schema.fromJsonString(Schema.Struct({
  bytes: Schema.optionalKey(Schema.Number),
  blockingSeconds: Schema.optionalKey(Schema.Number)
}))
const decodeCheckpoint = Schema.decodeUnknownOption(CheckpointPayload)

const toCheckpoint = (event: EventRecord): CheckpointRecord => {
  const payload = decodeCheckpoint(event.payloadJson)
  return {
    attemptId: event.attemptId,
    timeMillis: event.timeMillis,
    step: event.step,
    bytes: payload._tag === "Some" ? payload.value.bytes ?? null : null,
    blockingSeconds: payload._tag === "Some" ? payload.value.blockingSeconds ?? null : null
  }
}

/** One job's page; undefined when the queue has no such job. */
export const jobPageView = (
  jobId: string,
  options: { readonly checkpointLimit?: number } = {}
): Effect.Effect<JobPageView | undefined, QueueStoreError | LedgerError, QueueStore | Ledger> =>
  Effect.gen(function*() {
    const view = yield* jobView(jobId)
    if (view === undefined) return undefined
    const events = view.run === undefined ? [] : yield* (yield* Ledger).events(jobId, ["checkpoint"])
    return {
      ...view,
      checkpoints: events.slice(-(options.checkpointLimit ?? 10)).reverse().map(toCheckpoint),
      checkpointCount: events.length
    }
  })
