/**
 * The queue as the scheduler keeps it in the ledger (`ledger.migrate("scheduler", …)`): one `queue` row per
 * submitted job, keyed by the job id its runner row gets when it is admitted, every decision about it in
 * `queue_decisions`, and the SQLite leader's lease. Rows are external data: each is decoded with a Schema.
 */
import { type Migration, RankedPlacement } from "@frugal/runner"
import { Schema } from "effect"
import { type QuotaUse, WAIT_REASONS, type WaitReason } from "../Admission.ts"
import { QUEUE_STATES, type QueueState } from "../QueueStates.ts"

export { QUEUE_STATES, type QueueState }

/** Written in the SQL both ledgers accept; PostgreSQL gets BIGSERIAL for the AUTOINCREMENT id. */
export const SCHEDULER_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "queue, queue decisions, leader lease",
    sql: `
      CREATE TABLE queue (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        team TEXT NOT NULL,
        priority BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        reason TEXT CHECK (reason IN ('budget', 'gpus', 'quota', 'priority')),
        detail TEXT,
        submitted_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        admitted_ms BIGINT,
        ended_ms BIGINT,
        deadline_hours DOUBLE PRECISION,
        expected_hours DOUBLE PRECISION NOT NULL,
        expected_cost_usd DOUBLE PRECISION NOT NULL,
        gpus BIGINT NOT NULL,
        preemptible BIGINT NOT NULL,
        quota_json TEXT NOT NULL,
        placements_json TEXT NOT NULL,
        workload_text TEXT NOT NULL,
        cancel_requested BIGINT NOT NULL DEFAULT 0,
        preempt_requested BIGINT NOT NULL DEFAULT 0,
        preemptions BIGINT NOT NULL DEFAULT 0,
        cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0
      );
      CREATE INDEX queue_by_state ON queue(state, submitted_ms);
      CREATE INDEX queue_by_team ON queue(team, submitted_ms);
      CREATE TABLE queue_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES queue(id),
        time_ms BIGINT NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT,
        detail TEXT
      );
      CREATE INDEX queue_decisions_by_job ON queue_decisions(job_id, id);
      CREATE TABLE scheduler_leader (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        pid BIGINT NOT NULL,
        host TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
      );
    `
  }
]

export interface NewQueueJob {
  readonly id: string
  readonly name: string
  readonly team: string
  readonly priority: number
  readonly deadlineHours: number | null
  readonly expectedHours: number
  readonly expectedCostUsd: number
  readonly gpus: number
  /** Runs on spot first: preemptible for urgent work. */
  readonly preemptible: boolean
  readonly quotaUse: ReadonlyArray<QuotaUse>
  /** Its plan's ranked placements at submission (one local placement for a job without a plan). */
  readonly placements: ReadonlyArray<RankedPlacement>
  /** True when a plan priced the placements; false for a local job charged at the machine's price. */
  readonly planned: boolean
  /** The workload as submitted (YAML or JSON text), run when admitted. */
  readonly workloadText: string
}

export interface QueueJob extends NewQueueJob {
  readonly state: QueueState
  /** Why it waits, while queued; null otherwise. */
  readonly reason: WaitReason | null
  /** The reason in words, or how it ended. */
  readonly detail: string | null
  readonly submittedAtMillis: number
  readonly updatedAtMillis: number
  readonly admittedAtMillis: number | null
  readonly endedAtMillis: number | null
  readonly cancelRequested: boolean
  readonly preemptRequested: boolean
  readonly preemptions: number
  /** What its attempts cost, as of when it last stopped (ended or preempted); running jobs accrue more in the ledger. */
  readonly costUsd: number
}

export interface QueueDecision {
  readonly jobId: string
  readonly timeMillis: number
  /** submitted | wait | admitted | preempt | requeued | resumed | restarted | lease-held | completed | failed | cancelled | cancel-requested */
  readonly decision: string
  readonly reason: string | null
  readonly detail: string | null
}

const QuotaUseJson = Schema.fromJsonString(Schema.Array(Schema.Struct({ key: Schema.String, amount: Schema.Number })))

const PlacementsJson = Schema.fromJsonString(Schema.Struct({ planned: Schema.Boolean, placements: Schema.Array(RankedPlacement) }))

const QueueRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  team: Schema.String,
  priority: Schema.Number,
  state: Schema.Literals(QUEUE_STATES),
  reason: Schema.NullOr(Schema.Literals(WAIT_REASONS)),
  detail: Schema.NullOr(Schema.String),
  submitted_ms: Schema.Number,
  updated_ms: Schema.Number,
  admitted_ms: Schema.NullOr(Schema.Number),
  ended_ms: Schema.NullOr(Schema.Number),
  deadline_hours: Schema.NullOr(Schema.Number),
  expected_hours: Schema.Number,
  expected_cost_usd: Schema.Number,
  gpus: Schema.Number,
  preemptible: Schema.Number,
  quota_json: Schema.String,
  placements_json: Schema.String,
  workload_text: Schema.String,
  cancel_requested: Schema.Number,
  preempt_requested: Schema.Number,
  preemptions: Schema.Number,
  cost_usd: Schema.Number
})

const DecisionRow = Schema.Struct({
  job_id: Schema.String,
  time_ms: Schema.Number,
  decision: Schema.String,
  reason: Schema.NullOr(Schema.String),
  detail: Schema.NullOr(Schema.String)
})

export const decodeQueueRows = Schema.decodeUnknownEffect(Schema.Array(QueueRow))
export const decodeDecisionRows = Schema.decodeUnknownEffect(Schema.Array(DecisionRow))

const decodePlacements = Schema.decodeUnknownSync(PlacementsJson)
const decodeQuotaUse = Schema.decodeUnknownSync(QuotaUseJson)

interface Fixed {
  readonly planned: boolean
  readonly placements: ReadonlyArray<RankedPlacement>
  readonly quotaUse: ReadonlyArray<QuotaUse>
}

/**
 * A job's placements and quota use never change after submission, and decoding their JSON is most of the cost of
 * reading a large queue (about 30 ms per 1,000 rows): each job's are decoded once per process and kept by job id.
 */
const fixedById = new Map<string, Fixed>()
const fixedOf = (row: { readonly id: string; readonly placements_json: string; readonly quota_json: string }): Fixed => {
  const known = fixedById.get(row.id)
  if (known !== undefined) return known
  const placements = decodePlacements(row.placements_json)
  const fixed = { planned: placements.planned, placements: placements.placements, quotaUse: decodeQuotaUse(row.quota_json) }
  fixedById.set(row.id, fixed)
  return fixed
}

export const toQueueJob = (row: typeof QueueRow.Type): QueueJob => {
  const fixed = fixedOf(row)
  return {
    id: row.id,
    name: row.name,
    team: row.team,
    priority: row.priority,
    state: row.state,
    reason: row.reason,
    detail: row.detail,
    submittedAtMillis: row.submitted_ms,
    updatedAtMillis: row.updated_ms,
    admittedAtMillis: row.admitted_ms,
    endedAtMillis: row.ended_ms,
    deadlineHours: row.deadline_hours,
    expectedHours: row.expected_hours,
    expectedCostUsd: row.expected_cost_usd,
    gpus: row.gpus,
    preemptible: row.preemptible !== 0,
    quotaUse: fixed.quotaUse,
    placements: fixed.placements,
    planned: fixed.planned,
    workloadText: row.workload_text,
    cancelRequested: row.cancel_requested !== 0,
    preemptRequested: row.preempt_requested !== 0,
    preemptions: row.preemptions,
    costUsd: row.cost_usd
  }
}

export const toDecision = (row: typeof DecisionRow.Type): QueueDecision => ({
  jobId: row.job_id,
  timeMillis: row.time_ms,
  decision: row.decision,
  reason: row.reason,
  detail: row.detail
})

export const encodeQuotaUse = Schema.encodeSync(QuotaUseJson)
export const encodePlacements = Schema.encodeSync(PlacementsJson)
