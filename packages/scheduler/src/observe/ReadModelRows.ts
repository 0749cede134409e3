/**
 * The rows the read model (LedgerReadModel) selects from the queue and the runner's attempts, each decoded with a
 * Schema of its columns (rows are external data), and what they become: listed jobs and costed attempts. A running
 * attempt's cost is the runner's own formula (`costUsd` of its placement up to when it was last seen), so these
 * figures are the ones `frugal status` and the budgets show.
 */
import { costUsd, type Placement } from "@frugal/runner"
import { Effect, Schema } from "effect"
import { WAIT_REASONS, type WaitReason } from "../Admission.ts"
import { QUEUE_STATES, type QueueState } from "../QueueStates.ts"
import { QueueStoreError } from "../store/SchedulerSql.ts"

const Count = Schema.Number
const NullableMillis = Schema.NullOr(Schema.Number)

export const StampRow = Schema.Struct({
  jobs: Count,
  queue_ms: NullableMillis,
  decision_id: NullableMillis,
  attempts: Count,
  open_seen_ms: NullableMillis,
  ended_ms: NullableMillis
})

export const ListedJobRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  team: Schema.String,
  state: Schema.Literals(QUEUE_STATES),
  reason: Schema.NullOr(Schema.Literals(WAIT_REASONS)),
  detail: Schema.NullOr(Schema.String),
  priority: Schema.Number,
  submitted_ms: Schema.Number,
  admitted_ms: NullableMillis,
  ended_ms: NullableMillis,
  expected_cost_usd: Schema.Number,
  cost_usd: Schema.Number,
  gpus: Schema.Number,
  preemptions: Schema.Number,
  cancel_requested: Schema.Number
})

export const CountsRow = Schema.Struct({ closed: Count, attempts: Count })

export const CountRow = Schema.Struct({ team: Schema.String, state: Schema.Literals(QUEUE_STATES), jobs: Count })

/** An attempt with its job's team and queue state: enough to cost it and to place it. */
export const AttemptRow = Schema.Struct({
  job_id: Schema.String,
  team: Schema.String,
  job_state: Schema.Literals(QUEUE_STATES),
  expected_cost_usd: Schema.Number,
  job_gpus: Schema.Number,
  sequence: Schema.Number,
  runner: Schema.String,
  instance_type: Schema.String,
  region: Schema.String,
  availability_zone: Schema.NullOr(Schema.String),
  purchase_option: Schema.Literals(["spot", "on-demand", "reserved", "savings-plan", "local"]),
  hourly_price_usd: Schema.Number,
  instance_count: Schema.Number,
  accelerators_per_instance: Schema.Number,
  started_ms: Schema.Number,
  last_seen_ms: Schema.Number,
  ended_ms: NullableMillis,
  exit_reason: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  transfer_cost_usd: Schema.Number,
  cost_usd: Schema.NullOr(Schema.Number)
})

/** Closed attempts summed by the database (their cost is final). */
export const ClosedTotalsRow = Schema.Struct({
  team: Schema.String,
  runner: Schema.String,
  purchase_option: Schema.String,
  exit_reason: Schema.NullOr(Schema.String),
  attempts: Count,
  cost_usd: Schema.NullOr(Schema.Number),
  gpu_hours: Schema.NullOr(Schema.Number)
})

export const ZoneEventRow = Schema.Struct({
  team: Schema.String,
  zone: Schema.String,
  exit_reason: Schema.String,
  reason: Schema.NullOr(Schema.String),
  attempts: Count
})

export const FailoverRow = Schema.Struct({ team: Schema.String, zone: Schema.String, moved_to: Schema.String, attempts: Count })

export const AdmissionRow = Schema.Struct({ id: Schema.Number, job_id: Schema.String, team: Schema.String, submitted_ms: Schema.Number, time_ms: Schema.Number })

export const TeamSumRow = Schema.Struct({ team: Schema.String, cost_usd: Schema.NullOr(Schema.Number) })

export const OldestRow = Schema.Struct({ team: Schema.String, submitted_ms: Schema.Number, jobs: Count })

export const RunningRow = Schema.Struct({ id: Schema.String, team: Schema.String, gpus: Schema.Number, expected_cost_usd: Schema.Number })

export const StreakRow = Schema.Struct({ job_id: Schema.String, team: Schema.String, sequence: Schema.Number, exit_reason: Schema.NullOr(Schema.String) })

export const DeliveryRow = Schema.Struct({
  destination: Schema.String,
  period_start: Schema.String,
  period_end: Schema.String,
  delivered_ms: Schema.Number
})

/** Decodes `rows` with `schema`, failing as the queue store does for a row it cannot read. */
export const decodeRows = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, operation: string) => {
  const decode = Schema.decodeUnknownEffect(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<S["Type"]>, QueueStoreError> =>
    Effect.mapError(decode(rows), (error) => new QueueStoreError({ operation, detail: error.message }))
}

/** A job as the dashboard lists it; `costUsd` is what its attempts cost so far (accruing while it runs). */
export interface ListedJob {
  readonly id: string
  readonly name: string
  readonly team: string
  readonly state: QueueState
  readonly reason: WaitReason | null
  readonly detail: string | null
  readonly priority: number
  readonly submittedAtMillis: number
  readonly admittedAtMillis: number | null
  readonly endedAtMillis: number | null
  readonly expectedCostUsd: number
  readonly costUsd: number
  readonly gpus: number
  readonly preemptions: number
  readonly cancelRequested: boolean
}

export const toListedJob = (row: typeof ListedJobRow.Type, costUsd: number): ListedJob => ({
  id: row.id,
  name: row.name,
  team: row.team,
  state: row.state,
  reason: row.reason,
  detail: row.detail,
  priority: row.priority,
  submittedAtMillis: row.submitted_ms,
  admittedAtMillis: row.admitted_ms,
  endedAtMillis: row.ended_ms,
  expectedCostUsd: row.expected_cost_usd,
  costUsd,
  gpus: row.gpus,
  preemptions: row.preemptions,
  cancelRequested: row.cancel_requested !== 0
})

/** One attempt, costed: its hours, GPU-hours and dollars so far. */
export interface CostedAttempt {
  readonly jobId: string
  readonly team: string
  readonly jobState: QueueState
  readonly jobExpectedCostUsd: number
  readonly jobGpus: number
  readonly sequence: number
  readonly runner: string
  readonly placement: Placement
  readonly startedAtMillis: number
  readonly lastSeenAtMillis: number
  readonly endedAtMillis: number | null
  readonly exitReason: string | null
  readonly reason: string | null
  readonly gpuHours: number
  readonly costUsd: number
}

export const toCostedAttempt = (row: typeof AttemptRow.Type): CostedAttempt => {
  const placement: Placement = {
    instanceType: row.instance_type,
    region: row.region,
    availabilityZone: row.availability_zone,
    purchaseOption: row.purchase_option,
    hourlyPriceUsd: row.hourly_price_usd,
    instanceCount: row.instance_count,
    accelerator: null,
    acceleratorsPerInstance: row.accelerators_per_instance,
    interruptionsPerHour: 0
  }
  const end = row.ended_ms ?? row.last_seen_ms
  const hours = Math.max(0, end - row.started_ms) / 3_600_000
  return {
    jobId: row.job_id,
    team: row.team,
    jobState: row.job_state,
    jobExpectedCostUsd: row.expected_cost_usd,
    jobGpus: row.job_gpus,
    sequence: row.sequence,
    runner: row.runner,
    placement,
    startedAtMillis: row.started_ms,
    lastSeenAtMillis: row.last_seen_ms,
    endedAtMillis: row.ended_ms,
    exitReason: row.exit_reason,
    reason: row.reason,
    gpuHours: hours * row.accelerators_per_instance * row.instance_count,
    // The ledger's own figure once closed; while open, the runner's accrual up to when it was last seen.
    costUsd: row.cost_usd ?? costUsd(placement, row.started_ms, row.last_seen_ms) + row.transfer_cost_usd
  }
}
