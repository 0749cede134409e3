/**
 * The queue in the ledger: submissions, their state as the scheduler moves them, every decision with its reason.
 * Every state change is a compare-and-set on the current state (`… WHERE state = 'queued' RETURNING id`) in the
 * same transaction as its decision row, so two replicas, or a replica and a restarted leader, never both move a
 * job, and a decision is never recorded for a change that did not happen.
 */
import { Ledger } from "@frugal/runner"
import { Clock, Context, Effect, Layer } from "effect"
import type { WaitReason } from "../Admission.ts"
import {
  decodeDecisionRows,
  decodeQueueRows,
  encodePlacements,
  encodeQuotaUse,
  type NewQueueJob,
  type QueueDecision,
  type QueueJob,
  type QueueState,
  SCHEDULER_MIGRATIONS,
  toDecision,
  toQueueJob
} from "./QueueRecords.ts"
import { SchedulerSql, type SqlStatements, type SqlValue, QueueStoreError } from "./SchedulerSql.ts"

export type EndState = Extract<QueueState, "completed" | "failed" | "cancelled">

export interface QueueFilter {
  readonly team?: string | undefined
  readonly states?: ReadonlyArray<QueueState> | undefined
}

export class QueueStore extends Context.Service<QueueStore, {
  readonly submit: (job: NewQueueJob) => Effect.Effect<QueueJob, QueueStoreError>
  readonly job: (id: string) => Effect.Effect<QueueJob | undefined, QueueStoreError>
  /** Newest submission first. */
  readonly jobs: (filter?: QueueFilter) => Effect.Effect<ReadonlyArray<QueueJob>, QueueStoreError>
  /** Records why a queued job waits (a decision row only when the reason or its words change). */
  readonly waiting: (id: string, reason: WaitReason, detail: string) => Effect.Effect<void, QueueStoreError>
  /** `waiting` for many jobs in one transaction: a pass over a long queue is one write, not one per job. */
  readonly waitingMany: (waits: ReadonlyArray<{ readonly jobId: string; readonly reason: WaitReason; readonly detail: string }>) => Effect.Effect<void, QueueStoreError>
  /**
   * queued → running with what admission reserved for it (its fitted placements' expected cost and GPUs); false when
   * it was no longer queued (cancelled meanwhile, or another leader took it).
   */
  readonly admit: (id: string, detail: string, reserved: { readonly expectedCostUsd: number; readonly gpus: number }) => Effect.Effect<boolean, QueueStoreError>
  /** queued or running → an end state; false when it had ended already. */
  readonly finish: (id: string, state: EndState, detail: string, costUsd?: number) => Effect.Effect<boolean, QueueStoreError>
  /** running → queued with reason `priority`, after a preemption; its submission time (and age) stays. */
  readonly requeue: (id: string, detail: string, costUsd: number) => Effect.Effect<boolean, QueueStoreError>
  /** A queued job is cancelled at once; a running one is flagged for the leader to stop. Undefined: no such job. */
  readonly requestCancel: (id: string) => Effect.Effect<QueueJob | undefined, QueueStoreError>
  /** Flags a running job as being preempted (it checkpoints and stops; then `requeue`). */
  readonly requestPreempt: (id: string, detail: string) => Effect.Effect<void, QueueStoreError>
  readonly record: (id: string, decision: string, reason: string | null, detail: string | null) => Effect.Effect<void, QueueStoreError>
  readonly decisions: (id: string) => Effect.Effect<ReadonlyArray<QueueDecision>, QueueStoreError>
}>()("@frugal/scheduler/QueueStore") {
  /** The queue over the scheduler's SQL, its tables created through the ledger's migrations. */
  static readonly layer: Layer.Layer<QueueStore, QueueStoreError, SchedulerSql | Ledger> = Layer.effect(
    QueueStore,
    Effect.gen(function*() {
      const ledger = yield* Ledger
      yield* ledger.migrate("scheduler", SCHEDULER_MIGRATIONS).pipe(
        Effect.mapError((error) => new QueueStoreError({ operation: "migrate", detail: error.message }))
      )
      return makeQueueStore(yield* SchedulerSql)
    })
  )
}

const decodeJobs = (rows: ReadonlyArray<unknown>) =>
  Effect.mapError(decodeQueueRows(rows), (error) => new QueueStoreError({ operation: "read queue", detail: error.message })).pipe(
    Effect.flatMap((decoded) =>
      Effect.try({
        try: () => decoded.map(toQueueJob),
        catch: (error) => new QueueStoreError({ operation: "read queue placements", detail: error instanceof Error ? error.message : String(error) })
      })
    )
  )

const insertDecision = (tx: SqlStatements, id: string, at: number, decision: string, reason: string | null, detail: string | null) =>
  tx.all("INSERT INTO queue_decisions (job_id, time_ms, decision, reason, detail) VALUES (?, ?, ?, ?, ?)", [id, at, decision, reason, detail])

export const makeQueueStore = (sql: SchedulerSql["Service"]): QueueStore["Service"] => {
  const jobIn = (tx: SqlStatements, id: string) =>
    Effect.map(Effect.flatMap(tx.all("SELECT * FROM queue WHERE id = ?", [id]), decodeJobs), (jobs) => jobs[0])

  /** One compare-and-set with its decision row; true when the row was in one of `from`. */
  const move = (
    id: string,
    from: ReadonlyArray<QueueState>,
    set: string,
    params: ReadonlyArray<SqlValue>,
    decision: { readonly decision: string; readonly reason: string | null; readonly detail: string | null }
  ) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) =>
      sql.transaction((tx) =>
        Effect.gen(function*() {
          const moved = yield* tx.all(
            `UPDATE queue SET ${set}, updated_ms = ? WHERE id = ? AND state IN (${from.map(() => "?").join(", ")}) RETURNING id`,
            [...params, at, id, ...from]
          )
          if (moved.length === 0) return false
          yield* insertDecision(tx, id, at, decision.decision, decision.reason, decision.detail)
          return true
        })
      ))

  const waitingMany = (waits: ReadonlyArray<{ readonly jobId: string; readonly reason: WaitReason; readonly detail: string }>) =>
    waits.length === 0 ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (at) =>
      sql.transaction((tx) =>
        Effect.forEach(waits, ({ jobId, reason, detail }) =>
          Effect.gen(function*() {
            const changed = yield* tx.all(
              `UPDATE queue SET reason = ?, detail = ?, updated_ms = ?
               WHERE id = ? AND state = 'queued' AND (reason IS NULL OR reason <> ? OR detail IS NULL OR detail <> ?) RETURNING id`,
              [reason, detail, at, jobId, reason, detail]
            )
            if (changed.length > 0) yield* insertDecision(tx, jobId, at, "wait", reason, detail)
          }), { discard: true })
      ))

  return QueueStore.of({
    submit: (job) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        sql.transaction((tx) =>
          Effect.gen(function*() {
            yield* tx.all(
              `INSERT INTO queue (id, name, team, priority, state, submitted_ms, updated_ms, deadline_hours, expected_hours,
                 expected_cost_usd, gpus, preemptible, quota_json, placements_json, workload_text)
               VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [
                job.id,
                job.name,
                job.team,
                job.priority,
                at,
                at,
                job.deadlineHours,
                job.expectedHours,
                job.expectedCostUsd,
                job.gpus,
                job.preemptible ? 1 : 0,
                encodeQuotaUse(job.quotaUse),
                encodePlacements({ planned: job.planned, placements: job.placements }),
                job.workloadText
              ]
            )
            yield* insertDecision(tx, job.id, at, "submitted", null, `priority ${job.priority}, expected ${job.expectedCostUsd.toFixed(4)} USD, ${job.gpus} GPUs`)
            const created = yield* jobIn(tx, job.id)
            if (created === undefined) return yield* new QueueStoreError({ operation: "submit", detail: `job ${job.id} vanished after insert` })
            return created
          })
        )),
    job: (id) => Effect.flatMap(sql.all("SELECT * FROM queue WHERE id = ?", [id]), (rows) => Effect.map(decodeJobs(rows), (jobs) => jobs[0])),
    jobs: (filter = {}) => {
      const where: Array<string> = []
      const params: Array<SqlValue> = []
      if (filter.team !== undefined) {
        where.push("team = ?")
        params.push(filter.team)
      }
      if (filter.states !== undefined) {
        if (filter.states.length === 0) return Effect.succeed([])
        where.push(`state IN (${filter.states.map(() => "?").join(", ")})`)
        params.push(...filter.states)
      }
      const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`
      return Effect.flatMap(sql.all(`SELECT * FROM queue ${clause} ORDER BY submitted_ms DESC, id`, params), decodeJobs)
    },
    waiting: (id, reason, detail) => waitingMany([{ jobId: id, reason, detail }]),
    waitingMany,
    admit: (id, detail, reserved) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        move(
          id,
          ["queued"],
          "state = 'running', reason = NULL, detail = ?, admitted_ms = ?, expected_cost_usd = ?, gpus = ?",
          [detail, at, reserved.expectedCostUsd, reserved.gpus],
          { decision: "admitted", reason: null, detail }
        )),
    finish: (id, state, detail, costUsd) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        move(id, ["queued", "running"], "state = ?, reason = NULL, detail = ?, ended_ms = ?, cost_usd = COALESCE(?, cost_usd)", [
          state,
          detail,
          at,
          costUsd ?? null
        ], { decision: state, reason: null, detail })),
    requeue: (id, detail, costUsd) =>
      move(id, ["running"], "state = 'queued', reason = 'priority', detail = ?, cost_usd = ?, preempt_requested = 0, preemptions = preemptions + 1", [
        detail,
        costUsd
      ], {
        decision: "requeued",
        reason: "priority",
        detail
      }),
    requestCancel: (id) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        sql.transaction((tx) =>
          Effect.gen(function*() {
            const current = yield* jobIn(tx, id)
            if (current === undefined) return undefined
            if (current.state === "queued") {
              yield* tx.all("UPDATE queue SET state = 'cancelled', reason = NULL, detail = ?, ended_ms = ?, updated_ms = ? WHERE id = ?", [
                "cancelled while queued",
                at,
                at,
                id
              ])
              yield* insertDecision(tx, id, at, "cancelled", null, "cancelled while queued")
            } else if (current.state === "running" && !current.cancelRequested) {
              yield* tx.all("UPDATE queue SET cancel_requested = 1, updated_ms = ? WHERE id = ?", [at, id])
              yield* insertDecision(tx, id, at, "cancel-requested", null, "the scheduler stops it at its next pass")
            }
            return yield* jobIn(tx, id)
          })
        )),
    requestPreempt: (id, detail) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        sql.transaction((tx) =>
          Effect.gen(function*() {
            const flagged = yield* tx.all(
              "UPDATE queue SET preempt_requested = 1, updated_ms = ? WHERE id = ? AND state = 'running' AND preempt_requested = 0 RETURNING id",
              [at, id]
            )
            if (flagged.length > 0) yield* insertDecision(tx, id, at, "preempt", "priority", detail)
          })
        )),
    record: (id, decision, reason, detail) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.asVoid(insertDecision(sql, id, at, decision, reason, detail))),
    decisions: (id) =>
      Effect.flatMap(sql.all("SELECT * FROM queue_decisions WHERE job_id = ? ORDER BY id", [id]), (rows) =>
        Effect.mapError(decodeDecisionRows(rows), (error) => new QueueStoreError({ operation: "read decisions", detail: error.message })).pipe(
          Effect.map((decoded) => decoded.map(toDecision))
        ))
  })
}
