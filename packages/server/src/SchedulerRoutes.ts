/**
 * The scheduler's HTTP API (ARCHITECTURE.md, "Scheduler"): each route parses, checks who may do it, calls what
 * `@frugal/scheduler` offers (QueueActions) and answers with the contract's shapes. Nothing here decides anything.
 */
import type { InputIssue } from "@frugal/core"
import type { AttemptRecord, Ledger } from "@frugal/runner"
import {
  budgetsView,
  cancelInQueue,
  type JobLauncher,
  jobView,
  listQueue,
  QUEUE_STATES,
  type QueueJob,
  type QueueSignal,
  type QueueStore,
  type SchedulerPolicy,
  submitToQueue
} from "@frugal/scheduler"
import {
  type AttemptSummary,
  BudgetsResponse,
  CancelResponse,
  ErrorBody,
  HealthResponse,
  JobDetail,
  JobsResponse,
  type JobSummary,
  QueueStateSchema,
  SubmitRequest,
  SubmitResponse,
  TeamName
} from "@frugal/scheduler/api"
import { Effect, Exit, Schema } from "effect"
import { mayAccessTeam } from "./Auth.ts"
import { type ApiFailure, type ApiRequest, failure, json, route, type Route } from "./Route.ts"
import type { Principal } from "./ServerConfig.ts"

export type ApiServices = QueueStore | Ledger | JobLauncher | QueueSignal

const iso = (millis: number | null): string | null => (millis === null ? null : new Date(millis).toISOString())

export const jobSummary = (job: QueueJob, costUsd: number): JobSummary => ({
  id: job.id,
  name: job.name,
  team: job.team,
  state: job.state,
  reason: job.reason,
  detail: job.detail,
  priority: job.priority,
  submittedAt: new Date(job.submittedAtMillis).toISOString(),
  submittedAtMillis: job.submittedAtMillis,
  admittedAt: iso(job.admittedAtMillis),
  endedAt: iso(job.endedAtMillis),
  deadlineHours: job.deadlineHours,
  expectedHours: job.expectedHours,
  expectedCostUsd: job.expectedCostUsd,
  costUsd,
  gpus: job.gpus,
  preemptions: job.preemptions
})

const attemptSummary = (attempt: AttemptRecord): AttemptSummary => ({
  sequence: attempt.sequence,
  id: attempt.id,
  runner: attempt.runner,
  instanceType: attempt.placement.instanceType,
  region: attempt.placement.region,
  availabilityZone: attempt.placement.availabilityZone,
  purchaseOption: attempt.placement.purchaseOption,
  instanceCount: attempt.placement.instanceCount,
  outcome: attempt.outcome,
  reason: attempt.reason,
  startedAt: new Date(attempt.startedAtMillis).toISOString(),
  startedAtMillis: attempt.startedAtMillis,
  endedAt: iso(attempt.endedAtMillis),
  endedAtMillis: attempt.endedAtMillis,
  lastSeenAtMillis: attempt.lastSeenAtMillis,
  costUsd: attempt.costUsd,
  hourlyPriceUsd: attempt.placement.hourlyPriceUsd,
  lastStep: attempt.lastStep,
  resumedFromStep: attempt.resumedFromStep
})

const internal = (error: { readonly message: string }) => failure(500, "internal", `the server could not answer: ${error.message}`)

const principalOf = (request: ApiRequest<unknown>): Principal =>
  request.principal ?? { kind: "admin" }

/** The team a request acts for: a team token's own (another team's is 403), or the one an admin names. */
const actingTeam = (principal: Principal, named: string | undefined): Effect.Effect<string, ApiFailure> => {
  if (principal.kind === "team") {
    if (named !== undefined && named !== principal.team) {
      return Effect.fail(failure(403, "forbidden", `this token is team ${principal.team}'s; it cannot submit for team ${named}`))
    }
    return Effect.succeed(principal.team)
  }
  if (named === undefined) {
    return Effect.fail(failure(400, "invalid_input", "an admin token must name the team", { issues: [{ path: "team", expected: "the team to submit for (an admin token belongs to no team)" }] }))
  }
  return Effect.succeed(named)
}

const prefixed = (prefix: string, issues: ReadonlyArray<InputIssue>): ReadonlyArray<InputIssue> =>
  issues.map((issue) => ({ ...issue, path: issue.path === "" ? prefix : `${prefix}.${issue.path}` }))

const decodeQuery = <S extends Schema.Top>(schema: S, name: string, value: string | null) =>
  value === null
    ? Effect.succeed(undefined)
    : Effect.mapError(Schema.decodeUnknownEffect(schema)(value), () =>
      failure(400, "invalid_input", `bad query parameter ${name}`, { issues: [{ path: name, expected: String(schema.ast.annotations?.["expected"] ?? "a valid value"), actual: value }] }))

/**
 * How long a computed budgets view is served again: it reads every job of the month, the costliest answer here, and
 * under load it held the event loop for every other route (scheduler-api bench). Concurrent callers share one read.
 */
const BUDGETS_FRESH = "1 second"

export const schedulerRoutes = (policy: SchedulerPolicy, health: () => { readonly leader: boolean }): ReadonlyArray<Route<ApiServices>> => {
  // Building the cache only allocates it (no I/O, no services), so it is run here, once per set of routes.
  const currentBudgets = Effect.runSync(
    Effect.cachedWithTTL(budgetsView(policy), (exit) => (Exit.isSuccess(exit) ? BUDGETS_FRESH : 0))
  )
  return [
    route({
      method: "GET",
      path: "/healthz",
      operationId: "health",
      summary: "Liveness, and whether this replica leads the scheduling",
      auth: false,
      responses: [{ status: 200, description: "Serving", schema: HealthResponse }],
      handle: () => Effect.succeed(json(200, { status: "ok", leader: health().leader }))
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs",
      operationId: "submitJob",
      summary: "Queue a workload for a team",
      auth: true,
      request: SubmitRequest,
      responses: [
        { status: 201, description: "Queued", schema: SubmitResponse },
        { status: 422, description: "No placement can meet a constraint (constraints.deadlineHours, maxGpus, monthlyBudgetUsd): `constraint` names it", schema: ErrorBody }
      ],
      handle: (request) =>
        Effect.gen(function*() {
          const body = request.body
          const team = yield* actingTeam(principalOf(request), body.team)
          const workloadText = typeof body.workload === "string" ? body.workload : JSON.stringify(body.workload)
          const job = yield* submitToQueue({ team, priority: body.priority ?? 0, workloadText }, policy).pipe(
            Effect.catchTags({
              InvalidInput: (error) =>
                Effect.fail(failure(400, "invalid_input", error.message, { issues: error.source === "workload" ? prefixed("workload", error.issues) : error.issues })),
              NoFeasiblePlacement: (error) => Effect.fail(failure(422, "no_feasible_placement", `${error.constraint}: ${error.detail}`, { constraint: error.constraint })),
              LaunchFailure: (error) => Effect.fail(internal(error)),
              QueueStoreError: (error) => Effect.fail(internal(error))
            })
          )
          return json(201, { id: job.id, state: job.state, reason: job.reason, expectedCostUsd: job.expectedCostUsd, gpus: job.gpus })
        })
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs",
      operationId: "listJobs",
      summary: "The jobs this token may see (its team's; every team's for the admins), newest first",
      auth: true,
      query: {
        team: { description: "Only this team's jobs (admins)", schema: TeamName },
        state: { description: "Only jobs in this state", schema: QueueStateSchema }
      },
      responses: [{ status: 200, description: "The jobs", schema: JobsResponse }],
      handle: (request) =>
        Effect.gen(function*() {
          const principal = principalOf(request)
          const team = yield* decodeQuery(TeamName, "team", request.query.get("team"))
          const state = yield* decodeQuery(QueueStateSchema, "state", request.query.get("state"))
          if (principal.kind === "team" && team !== undefined && team !== principal.team) {
            return yield* failure(403, "forbidden", `this token is team ${principal.team}'s; it cannot list team ${team}'s jobs`)
          }
          const listed = yield* listQueue({
            team: principal.kind === "team" ? principal.team : team,
            states: state === undefined ? QUEUE_STATES : [state]
          }).pipe(Effect.mapError(internal))
          return json(200, { jobs: listed.map((entry) => jobSummary(entry.job, entry.costUsd)) })
        })
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs/{id}",
      operationId: "getJob",
      summary: "A job with who supervises it and its attempts (as `frugal status JOB --json`), and the scheduler's decisions",
      auth: true,
      responses: [{ status: 200, description: "The job", schema: JobDetail }, { status: 404, description: "No such job", schema: ErrorBody }],
      handle: (request) =>
        Effect.gen(function*() {
          const id = request.params["id"] ?? ""
          const view = yield* jobView(id).pipe(Effect.mapError(internal))
          if (view === undefined) return yield* failure(404, "not_found", `no job ${id} in the queue`)
          if (!mayAccessTeam(principalOf(request), view.job.team)) return yield* failure(403, "forbidden", `job ${id} is another team's`)
          return json(200, {
            job: jobSummary(view.job, view.costUsd),
            run: view.run === undefined
              ? null
              : { status: view.run.status, finalStep: view.run.finalStep, weightsSha256: view.run.weightsSha256, detail: view.run.detail },
            supervisor: view.lease === undefined
              ? null
              : {
                pid: view.lease.holder.pid,
                host: view.lease.holder.host,
                label: view.lease.holder.label,
                since: new Date(view.lease.acquiredAtMillis).toISOString(),
                heartbeatAt: new Date(view.lease.heartbeatAtMillis).toISOString(),
                leaseExpiresAt: new Date(view.lease.expiresAtMillis).toISOString()
              },
            attempts: view.attempts.map(attemptSummary),
            decisions: view.decisions.map((d) => ({ at: new Date(d.timeMillis).toISOString(), decision: d.decision, reason: d.reason, detail: d.detail }))
          })
        })
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs/{id}/cancel",
      operationId: "cancelJob",
      summary: "Cancel a job: at once while queued; a running one checkpoints and stops",
      auth: true,
      responses: [{ status: 200, description: "Cancelled, or asked to stop", schema: CancelResponse }, { status: 404, description: "No such job", schema: ErrorBody }],
      handle: (request) =>
        Effect.gen(function*() {
          const id = request.params["id"] ?? ""
          const view = yield* jobView(id).pipe(Effect.mapError(internal))
          if (view === undefined) return yield* failure(404, "not_found", `no job ${id} in the queue`)
          if (!mayAccessTeam(principalOf(request), view.job.team)) return yield* failure(403, "forbidden", `job ${id} is another team's`)
          const job = yield* cancelInQueue(id).pipe(Effect.mapError(internal))
          if (job === undefined) return yield* failure(404, "not_found", `no job ${id} in the queue`)
          return json(200, { id: job.id, state: job.state, cancelRequested: job.cancelRequested })
        })
    }),
    route({
      method: "GET",
      path: "/api/v1/budgets",
      operationId: "budgets",
      summary: "Each team's month: budget, spent, reserved, remaining; GPUs in use (read at most once a second)",
      auth: true,
      responses: [{ status: 200, description: "The budgets this token may see", schema: BudgetsResponse }],
      handle: (request) =>
        Effect.gen(function*() {
          const principal = principalOf(request)
          const view = yield* currentBudgets.pipe(Effect.mapError(internal))
          return json(200, { ...view, teams: view.teams.filter((team) => mayAccessTeam(principal, team.team)) })
        })
    })
  ]
}
