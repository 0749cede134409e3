/**
 * What the ledger holds, as the rest of Frugal sees it (records), and how a SQLite row becomes one: rows are
 * external data, so each is decoded with a Schema of its columns rather than cast.
 */
import { Schema } from "effect"
import { type AttemptOutcome, attemptOutcome, EXIT_REASONS, type ExitReason } from "./AttemptExit.ts"
import type { JobLease } from "./JobLease.ts"
import { costUsd, ENGINE_NAMES, type EngineName, type Placement } from "./Placement.ts"

export type JobStatus = "running" | "completed" | "failed" | "cancelled"

export interface JobRecord {
  readonly id: string
  readonly name: string
  readonly status: JobStatus
  readonly runner: string
  /** What the job runs (launch spec, placement, settings) as JSON, so a restarted supervisor needs only the id. */
  readonly specJson: string
  readonly createdAtMillis: number
  readonly updatedAtMillis: number
  readonly finalStep: number | null
  readonly weightsSha256: string | null
  readonly detail: string | null
  /** The job's placement policy (ranked placements, policy name, deadline) as JSON; null for a job that stays put. */
  readonly policyJson: string | null
  /** sha256 of the canonical JSON of the workload the job was created from; null for jobs created before it was kept. */
  readonly workloadSha256: string | null
  /** That canonical JSON (WorkloadIdentity), to say what differs when another workload asks for the same job id. */
  readonly workloadJson: string | null
}

export interface AttemptRecord {
  readonly id: string
  readonly jobId: string
  /** 1, 2, 3… within the job. */
  readonly sequence: number
  readonly runner: string
  readonly placement: Placement
  readonly checkpointEverySeconds: number | null
  /** The engine's name for the attempt (pid, Slurm job id, pod, instance id), once launched. */
  readonly externalId: string | null
  readonly pid: number | null
  readonly logPath: string | null
  readonly startedAtMillis: number
  readonly lastSeenAtMillis: number
  readonly endedAtMillis: number | null
  readonly exitReason: ExitReason | null
  /** As `frugal status --json` reports it: completed, interrupted, failed, provision-failed, cancelled or running. */
  readonly outcome: AttemptOutcome
  /** The engine's short reason: `InsufficientInstanceCapacity`, `Server.SpotInstanceTermination`, `exit 1`. */
  readonly reason: string | null
  /** For a provision failure: what it set aside for a cool-down, the pool or the market in the region. */
  readonly coolDownScope: "pool" | "region" | null
  readonly exitCode: number | null
  readonly exitDetail: string | null
  readonly resumedFromStep: number | null
  readonly lastStep: number | null
  readonly lastCheckpointStep: number | null
  /** Checkpoint data moved between regions for this attempt (its part of `costUsd`). */
  readonly transferCostUsd: number
  /** Final for ended attempts; accrued to the last time seen for running ones. Includes the transfer. */
  readonly costUsd: number
}

export interface EventRecord {
  readonly id: number
  readonly jobId: string
  readonly attemptId: string
  readonly timeMillis: number
  readonly kind: string
  readonly step: number | null
  readonly payloadJson: string
}

export interface NewJob {
  readonly id: string
  readonly name: string
  readonly runner: string
  readonly specJson: string
  readonly policyJson?: string | null
  /** The workload the job is made from (its identity: another workload may not continue it). */
  readonly workload?: { readonly sha256: string; readonly json: string } | null
}

export interface NewAttempt {
  readonly id: string
  readonly jobId: string
  readonly runner: string
  readonly placement: Placement
  readonly checkpointEverySeconds: number | null
}

/** What the ledger keeps of a protocol event: its kind, step and the decoded event itself. */
export interface LedgerEvent {
  readonly kind: string
  readonly step: number | null
  readonly payload: unknown
}

const JobRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.Literals(["running", "completed", "failed", "cancelled"]),
  runner: Schema.String,
  spec_json: Schema.String,
  created_ms: Schema.Number,
  updated_ms: Schema.Number,
  final_step: Schema.NullOr(Schema.Number),
  weights_sha256: Schema.NullOr(Schema.String),
  detail: Schema.NullOr(Schema.String),
  policy_json: Schema.optionalKey(Schema.NullOr(Schema.String)),
  workload_sha256: Schema.optionalKey(Schema.NullOr(Schema.String)),
  workload_json: Schema.optionalKey(Schema.NullOr(Schema.String))
})

const LeaseRow = Schema.Struct({
  job_id: Schema.String,
  token: Schema.String,
  holder_pid: Schema.Number,
  holder_host: Schema.String,
  holder_pid_namespace: Schema.NullOr(Schema.String),
  holder_label: Schema.String,
  acquired_ms: Schema.Number,
  heartbeat_ms: Schema.Number,
  expires_ms: Schema.Number
})

const AttemptRow = Schema.Struct({
  id: Schema.String,
  job_id: Schema.String,
  sequence: Schema.Number,
  runner: Schema.String,
  pool: Schema.optionalKey(Schema.NullOr(Schema.String)),
  instance_type: Schema.String,
  region: Schema.String,
  availability_zone: Schema.NullOr(Schema.String),
  purchase_option: Schema.Literals(["spot", "on-demand", "reserved", "savings-plan", "local"]),
  hourly_price_usd: Schema.Number,
  instance_count: Schema.Number,
  accelerator: Schema.NullOr(Schema.String),
  accelerators_per_instance: Schema.Number,
  interruptions_per_hour: Schema.Number,
  checkpoint_every_seconds: Schema.NullOr(Schema.Number),
  external_id: Schema.NullOr(Schema.String),
  pid: Schema.NullOr(Schema.Number),
  log_path: Schema.NullOr(Schema.String),
  started_ms: Schema.Number,
  last_seen_ms: Schema.Number,
  ended_ms: Schema.NullOr(Schema.Number),
  exit_reason: Schema.NullOr(Schema.Literals(EXIT_REASONS)),
  exit_code: Schema.NullOr(Schema.Number),
  exit_detail: Schema.NullOr(Schema.String),
  reason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  cool_down_scope: Schema.optionalKey(Schema.NullOr(Schema.Literals(["pool", "region"]))),
  resumed_from_step: Schema.NullOr(Schema.Number),
  last_step: Schema.NullOr(Schema.Number),
  last_checkpoint_step: Schema.NullOr(Schema.Number),
  transfer_cost_usd: Schema.optionalKey(Schema.Number),
  cost_usd: Schema.NullOr(Schema.Number)
})

const EventRow = Schema.Struct({
  id: Schema.Number,
  job_id: Schema.String,
  attempt_id: Schema.String,
  time_ms: Schema.Number,
  kind: Schema.String,
  step: Schema.NullOr(Schema.Number),
  payload_json: Schema.String
})

const CalibrationRow = Schema.Struct({
  job_id: Schema.String,
  accelerator: Schema.String,
  precision: Schema.String,
  tokens_per_second_per_gpu: Schema.Number,
  mfu: Schema.NullOr(Schema.Number),
  steps: Schema.Number,
  measured_ms: Schema.Number
})

export const decodeJob = Schema.decodeUnknownSync(JobRow)
export const decodeAttempt = Schema.decodeUnknownSync(AttemptRow)
export const decodeEvent = Schema.decodeUnknownSync(EventRow)
export const decodeCalibration = Schema.decodeUnknownSync(CalibrationRow)
export const decodeLease = Schema.decodeUnknownSync(LeaseRow)

export const toLease = (row: typeof LeaseRow.Type): JobLease => ({
  jobId: row.job_id,
  token: row.token,
  holder: { pid: row.holder_pid, host: row.holder_host, pidNamespace: row.holder_pid_namespace, label: row.holder_label },
  acquiredAtMillis: row.acquired_ms,
  heartbeatAtMillis: row.heartbeat_ms,
  expiresAtMillis: row.expires_ms
})

export const toJob = (row: typeof JobRow.Type): JobRecord => ({
  id: row.id,
  name: row.name,
  status: row.status,
  runner: row.runner,
  specJson: row.spec_json,
  createdAtMillis: row.created_ms,
  updatedAtMillis: row.updated_ms,
  finalStep: row.final_step,
  weightsSha256: row.weights_sha256,
  detail: row.detail,
  policyJson: row.policy_json ?? null,
  workloadSha256: row.workload_sha256 ?? null,
  workloadJson: row.workload_json ?? null
})

const isEngineName = (name: string): name is EngineName => ENGINE_NAMES.some((engine) => engine === name)

export const toAttempt = (row: typeof AttemptRow.Type): AttemptRecord => {
  const placement: Placement = {
    ...(isEngineName(row.runner) ? { runner: row.runner } : {}),
    pool: row.pool ?? null,
    instanceType: row.instance_type,
    region: row.region,
    availabilityZone: row.availability_zone,
    purchaseOption: row.purchase_option,
    hourlyPriceUsd: row.hourly_price_usd,
    instanceCount: row.instance_count,
    accelerator: row.accelerator,
    acceleratorsPerInstance: row.accelerators_per_instance,
    interruptionsPerHour: row.interruptions_per_hour
  }
  return {
    id: row.id,
    jobId: row.job_id,
    sequence: row.sequence,
    runner: row.runner,
    placement,
    checkpointEverySeconds: row.checkpoint_every_seconds,
    externalId: row.external_id,
    pid: row.pid,
    logPath: row.log_path,
    startedAtMillis: row.started_ms,
    lastSeenAtMillis: row.last_seen_ms,
    endedAtMillis: row.ended_ms,
    exitReason: row.exit_reason,
    outcome: attemptOutcome(row.exit_reason),
    reason: row.reason ?? null,
    coolDownScope: row.cool_down_scope ?? null,
    exitCode: row.exit_code,
    exitDetail: row.exit_detail,
    resumedFromStep: row.resumed_from_step,
    lastStep: row.last_step,
    lastCheckpointStep: row.last_checkpoint_step,
    transferCostUsd: row.transfer_cost_usd ?? 0,
    costUsd: row.cost_usd ?? costUsd(placement, row.started_ms, row.last_seen_ms) + (row.transfer_cost_usd ?? 0)
  }
}

