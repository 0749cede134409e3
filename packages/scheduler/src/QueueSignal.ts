/**
 * Wakes the scheduler the moment something changes (a submission, a cancel, a job ending and freeing capacity)
 * instead of polling with backoff. In one process a signal is an in-memory wake; with PostgreSQL every replica also
 * sends `NOTIFY frugal_queue` and the leader, listening on a connection of its own, wakes on any replica's change.
 */
import { Postgres } from "@frugal/runner/postgres"
import { Context, Effect, Layer, Queue, type Scope } from "effect"

const CHANNEL = "frugal_queue"

export class QueueSignal extends Context.Service<QueueSignal, {
  /** Something changed: wake the scheduler (here and, with PostgreSQL, on the leader replica). */
  readonly notify: Effect.Effect<void>
  /** Waits for the next signal, or `timeoutMillis` (the loop's time-driven pass: aging, deadlines, the month). */
  readonly next: (timeoutMillis: number) => Effect.Effect<void>
}>()("@frugal/scheduler/QueueSignal") {
  static readonly layerLocal: Layer.Layer<QueueSignal> = Layer.effect(
    QueueSignal,
    Effect.map(Queue.sliding<void>(1), (wakes) => make(wakes, Effect.void))
  )

  /** Signals through PostgreSQL's LISTEN/NOTIFY, so a change on any replica wakes the leader. */
  static readonly layerPostgres: Layer.Layer<QueueSignal, never, Postgres> = Layer.effect(
    QueueSignal,
    Effect.gen(function*() {
      const db = yield* Postgres
      const wakes = yield* Queue.sliding<void>(1)
      yield* listen(db, wakes).pipe(Effect.ignore, Effect.forkScoped)
      return make(wakes, Effect.ignore(db.query(`NOTIFY ${CHANNEL}`)))
    })
  )
}

const make = (wakes: Queue.Queue<void>, broadcast: Effect.Effect<void>): QueueSignal["Service"] =>
  QueueSignal.of({
    notify: Effect.andThen(Queue.offer(wakes, undefined), broadcast),
    next: (timeoutMillis) => Effect.asVoid(Effect.timeoutOption(Queue.take(wakes), timeoutMillis))
  })

/** Holds a LISTEN connection for as long as the scope; a dropped connection is opened again. */
const listen = (db: Postgres["Service"], wakes: Queue.Queue<void>): Effect.Effect<never, never, Scope.Scope> =>
  Effect.forever(
    Effect.scoped(
      Effect.gen(function*() {
        const client = yield* db.dedicated
        const ended = yield* Effect.callback<void>((resume) => {
          client.on("notification", () => Queue.offerUnsafe(wakes, undefined))
          client.on("end", () => resume(Effect.void))
          client.on("error", () => resume(Effect.void))
          // A change made while this connection was down is not lost: listening again wakes the loop once.
          client.query(`LISTEN ${CHANNEL}`).then(() => Queue.offerUnsafe(wakes, undefined), () => resume(Effect.void))
        }).pipe(Effect.as(true))
        return ended
      })
    ).pipe(
      Effect.catch(() => Effect.void),
      Effect.andThen(Effect.sleep(500))
    )
  )
