/**
 * Everything `/metrics` exports, read once per scrape from the ledger (the queue and the attempts), so every
 * replica of `frugal server` reports the same figures: jobs by team and state, queue waits, GPU-hours and dollars by
 * team, engine and purchase option, interruptions and provisioning failures by zone and reason, each team's month,
 * jobs failing repeatedly. Label values are bounded here: teams come from the queue, zones and reasons are cleaned
 * and capped (the rest become `other`), and no job id is a label.
 */
import { Clock, Effect } from "effect"
import { QUEUE_STATES, type QueueState } from "../QueueStates.ts"
import type { SchedulerPolicy } from "../SchedulerPolicy.ts"
import { monthStartMillis } from "../Spend.ts"
import type { QueueStoreError, SchedulerSql } from "../store/SchedulerSql.ts"
import type { TeamUsage } from "../Usage.ts"
import {
  activeAttemptEndings,
  type Admissions,
  firstAdmissions,
  jobCounts,
  monthAttempts,
  queuedOldest,
  runningAttempts,
  runningJobs,
  spendTotals,
} from "./LedgerReadModel.ts"
import { type SpendTotal, zoneEvents } from "./ClosedAttempts.ts"
import type { TeamScope } from "./ReadModelSql.ts"
import { boundLabel, failingJobs, labelValue, monthUsage } from "./Observations.ts"

/** At most this many zones, and reasons per kind, get series of their own. */
export const MAX_ZONE_LABELS = 50
export const MAX_REASON_LABELS = 20

export interface ZoneCount {
  readonly zone: string
  readonly kind: "interruption" | "provision-failure"
  readonly reason: string
  readonly attempts: number
}

export interface MetricsSnapshot {
  readonly nowMillis: number
  /** Jobs per team and state: every state of every team the config or the queue knows (0 where none). */
  readonly jobs: ReadonlyArray<{ readonly team: string; readonly state: QueueState; readonly jobs: number }>
  /** First admissions since the decision the caller last read (each job's wait from submission, seconds). */
  readonly admissions: Admissions
  /** How long the longest-waiting queued job of each team has waited, seconds (0 when none waits). */
  readonly oldestQueuedSeconds: ReadonlyArray<{ readonly team: string; readonly seconds: number }>
  readonly spend: ReadonlyArray<SpendTotal>
  /** Since the ledger began: interruptions and provisioning failures by (bounded) zone and reason. */
  readonly zoneEvents: ReadonlyArray<ZoneCount>
  readonly month: ReadonlyArray<TeamUsage>
  readonly failingJobs: ReadonlyArray<{ readonly team: string; readonly jobs: number }>
}

/** Each configured team's month (the budgets' figures), for the teams in `scope`. */
export const teamMonths = (policy: SchedulerPolicy, scope: TeamScope): Effect.Effect<ReadonlyArray<TeamUsage>, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const nowMillis = yield* Clock.currentTimeMillis
    const visible: SchedulerPolicy = scope === "all" ? policy : { ...policy, teams: policy.teams.filter((team) => scope.includes(team.name)) }
    return monthUsage(visible, nowMillis, {
      ...(yield* monthAttempts(monthStartMillis(nowMillis), nowMillis, scope)),
      runningAttempts: yield* runningAttempts(scope),
      running: yield* runningJobs(scope),
      counts: yield* jobCounts(scope)
    })
  })

/** Zone events with their labels cleaned and capped: the busiest zones and reasons keep their own series. */
export const boundedZoneEvents = (events: ReadonlyArray<{ readonly zone: string; readonly kind: ZoneCount["kind"]; readonly reason: string | null; readonly attempts: number }>) => {
  const cleaned: ReadonlyArray<ZoneCount> = events.map((event) => ({ zone: labelValue(event.zone), kind: event.kind, reason: labelValue(event.reason), attempts: event.attempts }))
  const identity = (row: ZoneCount) => `${row.zone}\u0000${row.kind}\u0000${row.reason}`
  const merge = (into: ZoneCount, row: ZoneCount): ZoneCount => ({ ...into, attempts: into.attempts + row.attempts })
  const zones = boundLabel(cleaned, "zone", MAX_ZONE_LABELS, (row) => row.attempts, merge, identity)
  return (["interruption", "provision-failure"] as const).flatMap((kind) =>
    boundLabel(zones.filter((row) => row.kind === kind), "reason", MAX_REASON_LABELS, (row) => row.attempts, merge, identity)
  )
}

/** The metrics as the ledger has them now; `admittedAfterDecisionId`: the `admissions.lastDecisionId` of the last read (0 at first). */
export const metricsSnapshot = (policy: SchedulerPolicy, admittedAfterDecisionId = 0): Effect.Effect<MetricsSnapshot, QueueStoreError, SchedulerSql> =>
  Effect.gen(function*() {
    const nowMillis = yield* Clock.currentTimeMillis
    const counts = yield* jobCounts("all")
    const teams = [...new Set([...policy.teams.map((team) => team.name), ...counts.map((row) => row.team)])].sort()
    const oldest = yield* queuedOldest("all")
    const zones = yield* zoneEvents(0, "all")
    const failing = failingJobs(yield* activeAttemptEndings("all"))
    return {
      nowMillis,
      jobs: teams.flatMap((team) =>
        QUEUE_STATES.map((state) => ({ team, state, jobs: counts.find((row) => row.team === team && row.state === state)?.jobs ?? 0 }))
      ),
      admissions: yield* firstAdmissions(admittedAfterDecisionId, "all"),
      oldestQueuedSeconds: teams.map((team) => {
        const row = oldest.find((entry) => entry.team === team)
        return { team, seconds: row === undefined ? 0 : Math.max(0, nowMillis - row.submitted_ms) / 1000 }
      }),
      spend: yield* spendTotals("all"),
      zoneEvents: boundedZoneEvents(zones.events),
      month: yield* teamMonths(policy, "all"),
      failingJobs: teams.map((team) => ({ team, jobs: failing.get(team) ?? 0 }))
    }
  })
