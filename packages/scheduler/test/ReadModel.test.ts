/**
 * The dashboard's and `/metrics`' read model on both databases (the SQLite file and a throwaway PostgreSQL), over a
 * ledger seeded through the queue store and the ledger as the scheduler writes them: two teams, a spot attempt
 * interrupted in one zone and finished on-demand in another, a provisioning failure, a job crashing attempt after
 * attempt. Its figures must be the API's own (`listQueue`, `budgetsView`) and the ones computed here by hand.
 */
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type AttemptExit, Ledger, type Placement } from "@frugal/runner"
import { layerPostgres } from "@frugal/runner/postgres"
import { startTestPostgres, type TestPostgres } from "../../runner/test/support/TestPostgres.ts"
import {
  budgetsView,
  jobPageView,
  listQueue,
  metricsSnapshot,
  type NewQueueJob,
  observationStamp,
  overviewView,
  prepareReadModel,
  queueListing,
  QueueStore,
  firstAdmissions,
  SchedulerSql,
  type SchedulerPolicy,
  spendTotals,
  teamMonths,
  zoneEvents
} from "../src/index.ts"

let postgres: TestPostgres | undefined
beforeAll(async () => {
  postgres = await startTestPostgres()
})
afterAll(async () => {
  await postgres?.stop()
})

const MARCH_15 = Date.UTC(2026, 2, 15)
const MINUTE = 60_000

const policy: SchedulerPolicy = {
  teams: [{ name: "a", monthlyBudgetUsd: 100, maxGpus: 16 }, { name: "b", monthlyBudgetUsd: 50, maxGpus: 8 }],
  maxGpus: 24,
  agingPointsPerHour: 0,
  preemption: { enabled: false, minPriorityGap: 10 },
  commitments: []
}

const ec2 = (zone: string, purchaseOption: "spot" | "on-demand", hourlyPriceUsd: number): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: "p4d.24xlarge",
  region: "us-east-1",
  availabilityZone: zone,
  purchaseOption,
  hourlyPriceUsd,
  instanceCount: 1,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: 8,
  interruptionsPerHour: purchaseOption === "spot" ? 0.05 : 0
})

const local: Placement = { ...ec2("none", "on-demand", 2), runner: "local", instanceType: "local", region: "local", availabilityZone: null, purchaseOption: "local", accelerator: null, acceleratorsPerInstance: 0 }

const queued = (id: string, team: string, expectedCostUsd: number, gpus: number): NewQueueJob => ({
  id,
  name: id,
  team,
  priority: 0,
  deadlineHours: null,
  expectedHours: 1,
  expectedCostUsd,
  gpus,
  preemptible: true,
  quotaUse: [],
  placements: [{ placement: local, baseHours: 1, expectedHours: 1, expectedCostUsd }],
  planned: false,
  workloadText: `name: ${id}\n`
})

const at = (minutes: number) => TestClock.setTime(MARCH_15 + minutes * MINUTE)

/** Opens an attempt now, runs it `minutes`, closes it with `exit` (or leaves it open when null). */
const attempt = (jobId: string, placement: Placement, minutes: number, exit: AttemptExit | null) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const opened = yield* ledger.startAttempt({ id: `${jobId}-${Math.random().toString(16).slice(2)}`, jobId, runner: placement.runner ?? "local", placement, checkpointEverySeconds: 600 })
    yield* TestClock.adjust(`${minutes} minutes`)
    if (exit === null) yield* ledger.touchAttempt(opened.id, 10)
    else yield* ledger.finishAttempt(opened.id, exit)
    return opened
  })

/**
 * The seeded ledger, by team:
 * - a-done: waited 10 min; spot in use1-az4 for 30 min at $10/h (interrupted: $5, 4 GPU-h), then on-demand in
 *   use1-az6 for 30 min at $30/h (completed: $15, 4 GPU-h).
 * - a-run: waited 30 min; no capacity in use1-az4, then spot in use1-az6 at $12/h, open for 20 min ($4, 8/3 GPU-h).
 * - b-fail: running, three local attempts crashed (5 min each at $2/h).
 * - b-wait: queued since minute 100. a-gone: cancelled while queued.
 * - b-old: ran across the start of March (half its cost falls in it).
 */
const seed = Effect.gen(function*() {
  const store = yield* QueueStore
  const ledger = yield* Ledger
  const start = (id: string) => ledger.createJob({ id, name: id, runner: "ec2", specJson: "{}" })
  // b-old ran from February 28 23:00 to March 1 01:00 at $2/h: half of its $4 falls in March.
  yield* at(-14 * 24 * 60 - 60)
  yield* store.submit(queued("b-old", "b", 5, 0))
  yield* store.admit("b-old", "go", { expectedCostUsd: 5, gpus: 0 })
  yield* start("b-old")
  yield* attempt("b-old", local, 120, { _tag: "Completed" })
  yield* store.finish("b-old", "completed", "done", 4)
  yield* at(0)
  yield* store.submit(queued("a-done", "a", 25, 8))
  yield* at(10)
  yield* store.admit("a-done", "go", { expectedCostUsd: 25, gpus: 8 })
  yield* start("a-done")
  const first = yield* attempt("a-done", ec2("use1-az4", "spot", 10), 30, { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" })
  yield* ledger.recordEvent(first.id, { kind: "checkpoint", step: 40, payload: { event: "checkpoint", step: 40, bytes: 1024, blockingSeconds: 0.5 } })
  yield* TestClock.adjust("1 minute")
  yield* attempt("a-done", ec2("use1-az6", "on-demand", 30), 30, { _tag: "Completed" })
  yield* store.finish("a-done", "completed", "done", 20)

  yield* at(20)
  yield* store.submit(queued("a-run", "a", 10, 8))
  yield* at(50)
  yield* store.admit("a-run", "go", { expectedCostUsd: 10, gpus: 8 })
  yield* start("a-run")
  yield* attempt("a-run", ec2("use1-az4", "spot", 12), 0, { _tag: "ProvisionFailed", code: "InsufficientInstanceCapacity", detail: "none left", scope: "pool" })
  yield* attempt("a-run", ec2("use1-az6", "spot", 12), 20, null)

  yield* at(60)
  yield* store.submit(queued("b-fail", "b", 3, 0))
  yield* store.admit("b-fail", "go", { expectedCostUsd: 3, gpus: 0 })
  yield* start("b-fail")
  for (let i = 0; i < 3; i++) yield* attempt("b-fail", local, 5, { _tag: "Crashed", code: 1, signal: null })

  yield* at(90)
  yield* store.submit(queued("a-gone", "a", 1, 0))
  yield* store.requestCancel("a-gone")
  yield* at(100)
  yield* store.submit(queued("b-wait", "b", 2, 0))
  yield* at(120)
})

type Stores = Layer.Layer<QueueStore | Ledger | SchedulerSql, unknown>

const backends: ReadonlyArray<{ readonly name: string; readonly fresh: () => Effect.Effect<Stores> }> = [
  {
    name: "SQLite",
    fresh: () =>
      Effect.sync(() => {
        const path = join(mkdtempSync(join(tmpdir(), "frugal-readmodel-")), "ledger.sqlite")
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
        return QueueStore.layer.pipe(Layer.provideMerge(SchedulerSql.postgres.pipe(Layer.provideMerge(database))))
      })
  }
]

const close = (actual: number, expected: number, what: string) => assert.approximately(actual, expected, 1e-9, what)

for (const backend of backends) {
  describe(`the read model: ${backend.name}`, () => {
    it.effect("lists the queue with the API's costs and sums every attempt by team, engine, purchase option and ending", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          yield* seed
          const listing = yield* queueListing("all", { activeLimit: 10, endedLimit: 10 })
          assert.deepStrictEqual(listing.active.map((job) => job.id), ["b-wait", "b-fail", "a-run"])
          assert.deepStrictEqual(listing.ended.map((job) => [job.id, job.state]), [["a-gone", "cancelled"], ["a-done", "completed"], ["b-old", "completed"]])
          const api = new Map((yield* listQueue({})).map((entry) => [entry.job.id, entry.costUsd]))
          for (const job of [...listing.active, ...listing.ended]) close(job.costUsd, api.get(job.id) ?? Number.NaN, job.id)
          close(listing.active.find((job) => job.id === "a-run")?.costUsd ?? 0, 4, "a-run accrued")

          const totals = yield* spendTotals("all")
          const find = (team: string, option: string, ending: string) => totals.find((row) => row.team === team && row.purchaseOption === option && row.exitReason === ending)
          close(find("a", "spot", "interrupted")?.costUsd ?? -1, 5, "interrupted spot")
          close(find("a", "spot", "interrupted")?.gpuHours ?? -1, 4, "interrupted GPU-hours")
          close(find("a", "on-demand", "completed")?.costUsd ?? -1, 15, "on-demand")
          assert.deepStrictEqual([find("a", "spot", "provision-failed")?.attempts, find("a", "spot", "provision-failed")?.costUsd], [1, 0])
          close(find("a", "spot", "running")?.gpuHours ?? -1, 8 / 3, "running GPU-hours")
          close(find("b", "local", "crashed")?.costUsd ?? -1, 3 * 5 / 60 * 2, "crashed local")
          assert.strictEqual(find("b", "local", "crashed")?.attempts, 3)
        }).pipe(Effect.provide(layer))))

    it.effect("keeps its sums of closed attempts right when an attempt closes late with an old end", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          yield* seed
          const ledger = yield* Ledger
          const byKey = (rows: ReadonlyArray<{ readonly team: string; readonly purchaseOption: string; readonly exitReason: string; readonly costUsd: number }>) =>
            Object.fromEntries(rows.map((row) => [`${row.team}/${row.purchaseOption}/${row.exitReason}`, Math.round(row.costUsd * 1e6) / 1e6]))
          const before = byKey(yield* spendTotals("all"))
          assert.strictEqual(before["a/spot/running"], 4)
          // Hours later a new leader closes a-run's attempt as lost, as of when it was last seen (minute 70).
          yield* TestClock.adjust("3 hours")
          yield* ledger.closeOpenAttempts("a-run", "the supervisor vanished")
          const after = byKey(yield* spendTotals("all"))
          assert.strictEqual(after["a/spot/running"], undefined)
          assert.strictEqual(after["a/spot/lost"], 4)
          assert.strictEqual(after["a/on-demand/completed"], 15)
          const attempts = [...(yield* ledger.attempts("a-done")), ...(yield* ledger.attempts("a-run")), ...(yield* ledger.attempts("b-fail")), ...(yield* ledger.attempts("b-old"))]
          close(Object.values(after).reduce((sum, usd) => sum + usd, 0), attempts.reduce((sum, a) => sum + a.costUsd, 0), "every attempt counted once")
        }).pipe(Effect.provide(layer))))

    it.effect("reports each team's month as GET /api/v1/budgets does, with its indexes in place", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          yield* seed
          assert.deepStrictEqual(yield* prepareReadModel, [1])
          assert.deepStrictEqual(yield* prepareReadModel, [])
          const months = yield* teamMonths(policy, "all")
          const api = (yield* budgetsView(policy)).teams
          assert.deepStrictEqual(months.map((team) => team.team), api.map((team) => team.team))
          months.forEach((team, i) => {
            const expected = api[i]
            if (expected === undefined) throw new Error("missing team")
            for (const key of ["spentUsd", "reservedUsd", "remainingUsd", "gpusInUse", "runningJobs", "queuedJobs", "monthlyBudgetUsd", "maxGpus"] as const) {
              close(team[key], expected[key], `${team.team}.${key}`)
            }
          })
          // a: 5 + 15 + 4 spent; a-run reserves 10 − 4.
          close(months[0]?.spentUsd ?? 0, 24, "a spent")
          close(months[0]?.reservedUsd ?? 0, 6, "a reserved")
          // b: half of b-old's $4, and three crashed attempts of 5 minutes at $2/h.
          close(months[1]?.spentUsd ?? 0, 2 + 0.5, "b spent")
          assert.deepStrictEqual((yield* teamMonths(policy, ["b"])).map((team) => team.team), ["b"])
        }).pipe(Effect.provide(layer))))

    it.effect("counts interruptions, provisioning failures and failovers by zone, waits, and jobs failing repeatedly", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          yield* seed
          const zones = yield* zoneEvents(0, "all")
          assert.deepStrictEqual(
            [...zones.events].map((event) => [event.zone, event.kind, event.reason, event.attempts]).sort(),
            [["use1-az4", "interruption", "Server.SpotInstanceTermination", 1], ["use1-az4", "provision-failure", "InsufficientInstanceCapacity", 1]]
          )
          // a-done and a-run each moved from use1-az4 to use1-az6.
          assert.deepStrictEqual(zones.failovers.map((move) => [move.team, move.zone, move.movedTo, move.attempts]), [["a", "use1-az4", "use1-az6", 2]])
          assert.deepStrictEqual((yield* zoneEvents(MARCH_15 + 45 * MINUTE, "all")).events.map((event) => event.kind), ["provision-failure"])
          assert.deepStrictEqual((yield* zoneEvents(0, ["b"])).events, [])

          const admissions = yield* firstAdmissions(0, "all")
          assert.deepStrictEqual(admissions.waits.map((wait) => [wait.jobId, wait.seconds]), [["b-old", 0], ["a-done", 600], ["a-run", 1800], ["b-fail", 0]])
          assert.deepStrictEqual((yield* firstAdmissions(admissions.lastDecisionId, "all")).waits, [])
          // Preempted and admitted again: its wait was counted at its first admission.
          const store = yield* QueueStore
          yield* store.requeue("a-run", "preempted", 4)
          yield* store.admit("a-run", "again", { expectedCostUsd: 10, gpus: 8 })
          assert.deepStrictEqual((yield* firstAdmissions(admissions.lastDecisionId, "all")).waits, [])

          const snapshot = yield* metricsSnapshot(policy)
          assert.deepStrictEqual(snapshot.failingJobs, [{ team: "a", jobs: 0 }, { team: "b", jobs: 1 }])
          assert.deepStrictEqual(snapshot.jobs.filter((row) => row.jobs > 0).map((row) => [row.team, row.state, row.jobs]), [
            ["a", "running", 1],
            ["a", "completed", 1],
            ["a", "cancelled", 1],
            ["b", "queued", 1],
            ["b", "running", 1],
            ["b", "completed", 1]
          ])
          assert.deepStrictEqual(snapshot.oldestQueuedSeconds, [{ team: "a", seconds: 0 }, { team: "b", seconds: 20 * 60 }])

          const overview = yield* overviewView(policy, ["a"])
          assert.deepStrictEqual(overview.listing.active.map((job) => job.id), ["a-run"])
          assert.deepStrictEqual(overview.zones.map((zone) => [zone.zone, zone.interruptions, zone.provisionFailures, zone.failovers]), [["use1-az4", 1, 1, 2]])
          assert.deepStrictEqual(overview.counts.map((row) => row.jobs), [0, 1, 1, 0, 1])
          assert.strictEqual(overview.lastReport, null)
        }).pipe(Effect.provide(layer))))

    it.effect("changes its stamp when an attempt is seen, and shows a job's checkpoints newest first", () =>
      Effect.flatMap(backend.fresh(), (layer) =>
        Effect.gen(function*() {
          yield* seed
          const before = yield* observationStamp
          assert.strictEqual(yield* observationStamp, before)
          const open = (yield* (yield* Ledger).attempts("a-run")).find((a) => a.endedAtMillis === null)
          yield* TestClock.adjust("1 second")
          if (open !== undefined) yield* (yield* Ledger).touchAttempt(open.id)
          assert.notStrictEqual(yield* observationStamp, before)

          const page = yield* jobPageView("a-done")
          assert.deepStrictEqual(page?.checkpoints.map((c) => [c.step, c.bytes, c.blockingSeconds]), [[40, 1024, 0.5]])
          assert.deepStrictEqual(page?.attempts.map((a) => [a.outcome, a.placement.availabilityZone]), [["interrupted", "use1-az4"], ["completed", "use1-az6"]])
          assert.strictEqual(yield* jobPageView("none"), undefined)
        }).pipe(Effect.provide(layer))))
  })
}
