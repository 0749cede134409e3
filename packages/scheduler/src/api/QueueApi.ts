/**
 * The HTTP JSON contract of `frugal server` (ARCHITECTURE.md, "Scheduler"): request and response bodies as Schemas.
 * The server decodes requests and the OpenAPI document is generated from these; the clients (CLI, SDK, Slack)
 * decode responses with the same ones, so the three cannot drift apart.
 */
import { Schema } from "effect"
import { WAIT_REASONS } from "../Admission.ts"
import { QUEUE_STATES } from "../QueueStates.ts"

const expecting = <S extends Schema.Top>(schema: S, expected: string): S["Rebuild"] => schema.annotate({ expected, description: expected })

export const TEAM_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
export const TeamName = expecting(Schema.String.check(Schema.isPattern(TEAM_NAME)), "a team name of a-z, 0-9 and '-' (at most 63)")
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const JobId = expecting(Schema.String.check(Schema.isPattern(JOB_ID)), "a job id of letters, digits, '.', '_' and '-' (at most 128)")
export const Priority = expecting(Schema.Int.check(Schema.isBetween({ minimum: -1000, maximum: 1000 })), "a whole number from -1000 to 1000")
const Usd = Schema.Finite
const Millis = Schema.Finite
const IsoTime = expecting(Schema.String, "an ISO 8601 time (UTC)")

export const SubmitRequest = Schema.Struct({
  workload: expecting(
    Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)]),
    "the workload spec: YAML or JSON text, or the spec as a JSON object (one workload)"
  ),
  team: Schema.optionalKey(TeamName),
  priority: Schema.optionalKey(Priority)
}).annotate({ identifier: "SubmitRequest", description: "POST /api/v1/jobs: a workload for the team's queue" })
export type SubmitRequest = typeof SubmitRequest.Type

export const QueueStateSchema = Schema.Literals(QUEUE_STATES)
export const WaitReasonSchema = Schema.Literals(WAIT_REASONS)

export const JobSummary = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  team: Schema.String,
  state: QueueStateSchema,
  /** Why it waits (queued only): budget, gpus, quota or priority. */
  reason: Schema.NullOr(WaitReasonSchema),
  detail: Schema.NullOr(Schema.String),
  priority: Schema.Finite,
  submittedAt: IsoTime,
  submittedAtMillis: Millis,
  admittedAt: Schema.NullOr(IsoTime),
  endedAt: Schema.NullOr(IsoTime),
  deadlineHours: Schema.NullOr(Schema.Finite),
  expectedHours: Schema.Finite,
  expectedCostUsd: Usd,
  costUsd: Usd,
  gpus: Schema.Finite,
  preemptions: Schema.Finite
}).annotate({ identifier: "JobSummary" })
export type JobSummary = typeof JobSummary.Type

export const SubmitResponse = Schema.Struct({
  id: Schema.String,
  state: QueueStateSchema,
  reason: Schema.NullOr(WaitReasonSchema),
  expectedCostUsd: Usd,
  gpus: Schema.Finite
}).annotate({ identifier: "SubmitResponse" })
export type SubmitResponse = typeof SubmitResponse.Type

export const JobsResponse = Schema.Struct({ jobs: Schema.Array(JobSummary) }).annotate({ identifier: "JobsResponse" })
export type JobsResponse = typeof JobsResponse.Type

/** One attempt as `frugal status JOB --json` prints it. */
export const AttemptSummary = Schema.Struct({
  sequence: Schema.Finite,
  id: Schema.String,
  runner: Schema.String,
  instanceType: Schema.String,
  region: Schema.String,
  availabilityZone: Schema.NullOr(Schema.String),
  purchaseOption: Schema.String,
  instanceCount: Schema.Finite,
  outcome: Schema.String,
  reason: Schema.NullOr(Schema.String),
  startedAt: IsoTime,
  startedAtMillis: Millis,
  endedAt: Schema.NullOr(IsoTime),
  endedAtMillis: Schema.NullOr(Millis),
  lastSeenAtMillis: Millis,
  costUsd: Usd,
  hourlyPriceUsd: Usd,
  lastStep: Schema.NullOr(Schema.Finite),
  resumedFromStep: Schema.NullOr(Schema.Finite)
}).annotate({ identifier: "AttemptSummary" })
export type AttemptSummary = typeof AttemptSummary.Type

export const Decision = Schema.Struct({
  at: IsoTime,
  decision: Schema.String,
  reason: Schema.NullOr(Schema.String),
  detail: Schema.NullOr(Schema.String)
}).annotate({ identifier: "Decision" })

/** Who supervises the job now, from its lease (as `frugal status JOB --json` says it); null when nobody does. */
export const JobSupervisor = Schema.Struct({
  pid: Schema.Finite,
  host: Schema.String,
  /** `frugal server` for the scheduler's replicas; `frugal run` for a job someone runs by hand. */
  label: Schema.String,
  since: IsoTime,
  heartbeatAt: IsoTime,
  leaseExpiresAt: IsoTime
}).annotate({ identifier: "JobSupervisor" })
export type JobSupervisor = typeof JobSupervisor.Type

export const JobDetail = Schema.Struct({
  job: JobSummary,
  /** The runner's view once admitted: final step and weights hash when completed. */
  run: Schema.NullOr(Schema.Struct({
    status: Schema.String,
    finalStep: Schema.NullOr(Schema.Finite),
    weightsSha256: Schema.NullOr(Schema.String),
    detail: Schema.NullOr(Schema.String)
  })),
  supervisor: Schema.NullOr(JobSupervisor),
  attempts: Schema.Array(AttemptSummary),
  decisions: Schema.Array(Decision)
}).annotate({ identifier: "JobDetail" })
export type JobDetail = typeof JobDetail.Type

export const CancelResponse = Schema.Struct({
  id: Schema.String,
  state: QueueStateSchema,
  cancelRequested: Schema.Boolean
}).annotate({ identifier: "CancelResponse" })
export type CancelResponse = typeof CancelResponse.Type

export const TeamBudget = Schema.Struct({
  team: Schema.String,
  monthlyBudgetUsd: Usd,
  spentUsd: Usd,
  reservedUsd: Usd,
  remainingUsd: Usd,
  gpusInUse: Schema.Finite,
  maxGpus: Schema.Finite,
  runningJobs: Schema.Finite,
  queuedJobs: Schema.Finite
}).annotate({ identifier: "TeamBudget" })

export const BudgetsResponse = Schema.Struct({
  /** The calendar month (UTC) the spend is counted in: `2026-03`. */
  month: Schema.String,
  maxGpus: Schema.Finite,
  teams: Schema.Array(TeamBudget)
}).annotate({ identifier: "BudgetsResponse" })
export type BudgetsResponse = typeof BudgetsResponse.Type

export const ERROR_CODES = [
  "invalid_input",
  "unauthorized",
  "forbidden",
  "not_found",
  "no_feasible_placement",
  "payload_too_large",
  "unsupported_media_type",
  "method_not_allowed",
  "internal"
] as const

export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.Literals(ERROR_CODES),
    message: Schema.String,
    /** For `invalid_input`: each bad field, with what was expected. */
    issues: Schema.optionalKey(Schema.Array(Schema.Struct({
      path: Schema.String,
      expected: Schema.String,
      actual: Schema.optionalKey(Schema.String)
    }))),
    /** For `no_feasible_placement`: the binding constraint, e.g. `constraints.deadlineHours`. */
    constraint: Schema.optionalKey(Schema.String)
  })
}).annotate({ identifier: "ErrorBody" })
export type ErrorBody = typeof ErrorBody.Type

export const HealthResponse = Schema.Struct({
  status: Schema.Literal("ok"),
  /** Whether this replica runs the scheduling loop now (one does; the others serve the API). */
  leader: Schema.Boolean
}).annotate({ identifier: "HealthResponse" })
