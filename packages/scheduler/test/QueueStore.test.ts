/**
 * The queue in the ledger, on both databases (the SQLite file and a throwaway PostgreSQL): every state change is a
 * compare-and-set with its decision row, so a change that did not happen records nothing and two movers never both
 * win.
 */
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Ledger, type Placement } from "@frugal/runner"
import { layerPostgres } from "@frugal/runner/postgres"
import { startTestPostgres, type TestPostgres } from "../../runner/test/support/TestPostgres.ts"
import { type NewQueueJob, QueueStore, SchedulerSql } from "../src/index.ts"

let postgres: TestPostgres | undefined
beforeAll(async () => {
  postgres = await startTestPostgres()
})
afterAll(async () => {
  await postgres?.stop()
})

const local: Placement = {
  runner: "local",
  pool: null,
  instanceType: "local",
  region: "local",
  availabilityZone: null,
  purchaseOption: "local",
  hourlyPriceUsd: 1,
  instanceCount: 1,
  accelerator: null,
  acceleratorsPerInstance: 0,
  interruptionsPerHour: 0
}

const job = (id: string, fields: Partial<NewQueueJob> = {}): NewQueueJob => ({
  id,
  name: "tiny",
  team: "a",
  priority: 0,
  deadlineHours: 12,
  expectedHours: 0.5,
  expectedCostUsd: 2,
  gpus: 1,
  preemptible: true,
  quotaUse: [{ key: "us-east-1/L-3819A6DF", amount: 8 }],
  placements: [{ placement: local, baseHours: 0.4, expectedHours: 0.5, expectedCostUsd: 0.5 }],
  planned: false,
  workloadText: "name: tiny\n",
  ...fields
})

type Stores = Layer.Layer<QueueStore | Ledger, unknown>

const backends: ReadonlyArray<{ readonly name: string; readonly fresh: () => Effect.Effect<Stores> }> = [
  {
    name: "SQLite",
    fresh: () =>
      Effect.sync(() => {
        const path = join(mkdtempSync(join(tmpdir(), "frugal-queue-")), "ledger.sqlite")
        const ledger = Ledger.layerFile(path)
        return QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledger, SchedulerSql.sqlite(path).pipe(Layer.provide(ledger)))))
      })
  },
  {
    name: "PostgreSQL",
    fresh: () =>
      Effect.promise(async () => {
        if (postgres === undefined) throw new Error("PostgreSQL did not start")
        const database = layerPostgres(await postgres.newDatabase())
        return QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(SchedulerSql.postgres).pipe(Layer.provideMerge(database))))
      })
  }
]

for (const backend of backends) {
  describe(`the queue store: ${backend.name}`, () => {
    it.effect("keeps a submission as given and lists newest first, by team and state", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          const store = yield* QueueStore
          const first = yield* store.submit(job("j1"))
          assert.deepStrictEqual(first, {
            ...job("j1"),
            state: "queued",
            reason: null,
            detail: null,
            submittedAtMillis: 0,
            updatedAtMillis: 0,
            admittedAtMillis: null,
            endedAtMillis: null,
            cancelRequested: false,
            preemptRequested: false,
            preemptions: 0,
            costUsd: 0
          })
          yield* TestClock.adjust("1 second")
          yield* store.submit(job("j2", { team: "b" }))
          assert.deepStrictEqual((yield* store.jobs()).map((j) => j.id), ["j2", "j1"])
          assert.deepStrictEqual((yield* store.jobs({ team: "a" })).map((j) => j.id), ["j1"])
          assert.deepStrictEqual((yield* store.jobs({ states: ["running"] })).map((j) => j.id), [])
          assert.strictEqual(yield* store.job("none"), undefined)
        }).pipe(Effect.provide(layer))))

    it.effect("records a wait only when its reason or words change, and moves state only from where it is", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          const store = yield* QueueStore
          yield* store.submit(job("j"))
          yield* store.waiting("j", "budget", "no money")
          yield* store.waiting("j", "budget", "no money")
          yield* store.waiting("j", "gpus", "no GPUs")
          assert.strictEqual((yield* store.job("j"))?.reason, "gpus")
          yield* TestClock.adjust("2 seconds")
          assert.strictEqual(yield* store.admit("j", "go", { expectedCostUsd: 3, gpus: 2 }), true)
          assert.strictEqual(yield* store.admit("j", "again", { expectedCostUsd: 3, gpus: 2 }), false)
          const running = yield* store.job("j")
          assert.deepStrictEqual([running?.state, running?.reason, running?.admittedAtMillis, running?.expectedCostUsd, running?.gpus], ["running", null, 2000, 3, 2])
          // A wait for a running job changes nothing.
          yield* store.waiting("j", "quota", "late")
          yield* store.requestPreempt("j", "urgent work")
          yield* store.requestPreempt("j", "urgent work")
          assert.strictEqual((yield* store.job("j"))?.preemptRequested, true)
          assert.strictEqual(yield* store.requeue("j", "back", 0.25), true)
          const requeued = yield* store.job("j")
          assert.deepStrictEqual([requeued?.state, requeued?.reason, requeued?.preemptions, requeued?.preemptRequested, requeued?.costUsd], ["queued", "priority", 1, false, 0.25])
          yield* store.admit("j", "go again", { expectedCostUsd: 3, gpus: 2 })
          assert.strictEqual(yield* store.finish("j", "completed", "done", 0.75), true)
          assert.strictEqual(yield* store.finish("j", "failed", "twice"), false)
          const ended = yield* store.job("j")
          assert.deepStrictEqual([ended?.state, ended?.detail, ended?.costUsd], ["completed", "done", 0.75])
          assert.deepStrictEqual((yield* store.decisions("j")).map((d) => [d.decision, d.reason]), [
            ["submitted", null],
            ["wait", "budget"],
            ["wait", "gpus"],
            ["admitted", null],
            ["preempt", "priority"],
            ["requeued", "priority"],
            ["admitted", null],
            ["completed", null]
          ])
        }).pipe(Effect.provide(layer))))

    it.effect("records a pass's waits together: only the changed ones get a decision, and running jobs keep theirs", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          const store = yield* QueueStore
          for (const id of ["w1", "w2", "w3"]) yield* store.submit(job(id))
          yield* store.waiting("w1", "budget", "no money")
          yield* store.admit("w3", "go", { expectedCostUsd: 2, gpus: 1 })
          yield* TestClock.adjust("5 seconds")
          yield* store.waitingMany([
            { jobId: "w1", reason: "budget", detail: "no money" },
            { jobId: "w2", reason: "gpus", detail: "team a holds 8 of its 8 GPUs" },
            { jobId: "w3", reason: "quota", detail: "late" }
          ])
          yield* store.waitingMany([])
          const [w1, w2, w3] = [yield* store.job("w1"), yield* store.job("w2"), yield* store.job("w3")]
          assert.deepStrictEqual([w1?.reason, w1?.updatedAtMillis], ["budget", 0])
          assert.deepStrictEqual([w2?.reason, w2?.detail, w2?.updatedAtMillis], ["gpus", "team a holds 8 of its 8 GPUs", 5000])
          assert.deepStrictEqual([w3?.state, w3?.reason], ["running", null])
          assert.deepStrictEqual((yield* store.decisions("w1")).map((d) => d.decision), ["submitted", "wait"])
          assert.deepStrictEqual((yield* store.decisions("w2")).map((d) => [d.decision, d.reason, d.timeMillis]), [["submitted", null, 0], ["wait", "gpus", 5000]])
          assert.deepStrictEqual((yield* store.decisions("w3")).map((d) => d.decision), ["submitted", "admitted"])
        }).pipe(Effect.provide(layer))))

    it.effect("cancels a queued job at once and flags a running one for the scheduler", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          const store = yield* QueueStore
          yield* store.submit(job("q"))
          yield* store.submit(job("r"))
          yield* store.admit("r", "go", { expectedCostUsd: 2, gpus: 1 })
          assert.strictEqual((yield* store.requestCancel("q"))?.state, "cancelled")
          const flagged = yield* store.requestCancel("r")
          assert.deepStrictEqual([flagged?.state, flagged?.cancelRequested], ["running", true])
          assert.strictEqual(yield* store.requestCancel("none"), undefined)
          assert.strictEqual(yield* store.admit("q", "too late", { expectedCostUsd: 2, gpus: 1 }), false)
        }).pipe(Effect.provide(layer))))

    it.effect("refuses a second submission with the same id", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          const store = yield* QueueStore
          yield* store.submit(job("dup"))
          const again = yield* Effect.flip(store.submit(job("dup", { team: "b" })))
          assert.strictEqual(again._tag, "QueueStoreError")
          assert.strictEqual((yield* store.job("dup"))?.team, "a")
        }).pipe(Effect.provide(layer))))
  })
}
