/**
 * One set of cases for every implementation of the `Ledger` service: the SQLite file and PostgreSQL (a real
 * server from Debian's binaries, started on loopback for this file). Each case gets a fresh ledger and runs under
 * the TestClock, so costs and times are exact and the two backends must agree to the millisecond.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DEFAULT_LEASE_SECONDS, type LeaseHolder, Ledger, LedgerError, type Placement } from "../src/index.ts"
import { RUNNER_MIGRATIONS } from "../src/LedgerMigrations.ts"
import { layerPostgres, RUNNER_POSTGRES_MIGRATIONS, translateMigrationSql } from "../src/postgres/index.ts"
import { postgresFailureReason } from "../src/postgres/PostgresFailures.ts"
import { startTestPostgres, type TestPostgres } from "./support/TestPostgres.ts"

const spot: Placement = {
  runner: "ec2",
  pool: null,
  instanceType: "g5.xlarge",
  region: "us-east-1",
  availabilityZone: "use1-az4",
  purchaseOption: "spot",
  hourlyPriceUsd: 3.6,
  instanceCount: 2,
  accelerator: "A10G",
  acceleratorsPerInstance: 1,
  interruptionsPerHour: 0.05
}

let postgres: TestPostgres | undefined
beforeAll(async () => {
  postgres = await startTestPostgres()
})
afterAll(async () => {
  await postgres?.stop()
})

type LedgerLayer = Layer.Layer<Ledger, LedgerError>

const backends: ReadonlyArray<{ readonly name: string; readonly fresh: () => Effect.Effect<LedgerLayer> }> = [
  {
    name: "SQLite",
    fresh: () => Effect.sync(() => Ledger.layerFile(join(mkdtempSync(join(tmpdir(), "frugal-conformance-")), "ledger.sqlite")))
  },
  {
    name: "PostgreSQL",
    fresh: () =>
      Effect.promise(async () => {
        if (postgres === undefined) throw new Error("PostgreSQL did not start")
        return layerPostgres(await postgres.newDatabase())
      })
  }
]

const holder = (pid: number, host = "box-1"): LeaseHolder => ({ pid, host, pidNamespace: "pid:[4026531836]", label: "frugal run" })
const TTL = DEFAULT_LEASE_SECONDS * 1000

const withLedger = <A, E>(fresh: () => Effect.Effect<LedgerLayer>, body: Effect.Effect<A, E, Ledger>) =>
  Effect.flatMap(fresh(), (layer) => Effect.provide(body, layer))

describe("the PostgreSQL ledger's migrations", () => {
  it("has the same numbered versions as the SQLite ledger's", () => {
    assert.deepStrictEqual(
      RUNNER_POSTGRES_MIGRATIONS.map((m) => [m.version, m.description]),
      RUNNER_MIGRATIONS.map((m) => [m.version, m.description])
    )
  })

  it("tells a full disk, damaged data and a busy server apart by SQLSTATE, with advice for a database server", () => {
    assert.deepStrictEqual(
      ["53100", "XX001", "XX002", "55P03", "40P01", "53300", "23505", undefined].map(postgresFailureReason),
      ["disk-full", "corrupt", "corrupt", "busy", "busy", "busy", undefined, undefined]
    )
    const full = new LedgerError({ path: "postgres://frugal@127.0.0.1:5432/ledger", operation: "recordEvent", detail: "could not extend file", reason: "disk-full" })
    assert.include(full.message, "the PostgreSQL server's disk is full; the write was rolled back whole")
    assert.notInclude(full.message, "sqlite3")
    const file = new LedgerError({ path: "/data/ledger.sqlite", operation: "open", detail: "malformed", reason: "corrupt" })
    assert.include(file.message, "sqlite3 /data/ledger.sqlite.damaged .recover")
  })

  it("writes other components' SQLite types in PostgreSQL's terms", () => {
    assert.strictEqual(
      translateMigrationSql("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER, usd REAL, n integer)"),
      "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, at_ms BIGINT, usd DOUBLE PRECISION, n BIGINT)"
    )
  })
})

for (const backend of backends) {
  describe(`Ledger conformance: ${backend.name}`, () => {
    it.effect("creates jobs running, lists them newest first and keeps spec and policy", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        const first = yield* ledger.createJob({ id: "a", name: "first", runner: "local", specJson: "{\"x\":1}" })
        assert.strictEqual(first.status, "running")
        assert.strictEqual(first.createdAtMillis, 0)
        assert.strictEqual(first.policyJson, null)
        yield* TestClock.adjust("1 second")
        yield* ledger.createJob({ id: "b", name: "second", runner: "ec2", specJson: "{}", policyJson: "{\"policy\":\"frugal\"}" })
        assert.deepStrictEqual((yield* ledger.jobs).map((job) => job.id), ["b", "a"])
        assert.strictEqual((yield* ledger.job("b"))?.policyJson, "{\"policy\":\"frugal\"}")
        assert.strictEqual(yield* ledger.job("missing"), undefined)
        yield* ledger.setJobPolicy("a", "{\"p\":2}")
        const a = yield* ledger.job("a")
        assert.strictEqual(a?.policyJson, "{\"p\":2}")
        assert.strictEqual(a?.updatedAtMillis, 1000)
        assert.strictEqual(a?.specJson, "{\"x\":1}")
      })))

    it.effect("refuses a second job with the same id", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "dup", name: "x", runner: "local", specJson: "{}" })
        const again = yield* Effect.flip(ledger.createJob({ id: "dup", name: "y", runner: "local", specJson: "{}" }))
        assert.strictEqual(again._tag, "LedgerError")
        assert.strictEqual(again.operation, "createJob")
        assert.strictEqual((yield* ledger.job("dup"))?.name, "x")
      })))

    it.effect("sets a job's status keeping its final step and hash unless given new ones", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "s", name: "s", runner: "local", specJson: "{}" })
        yield* ledger.setJobStatus("s", "completed", { finalStep: 40, weightsSha256: "ab".repeat(32) })
        yield* TestClock.adjust("2 seconds")
        yield* ledger.setJobStatus("s", "failed", { detail: "later" })
        const job = yield* ledger.job("s")
        assert.strictEqual(job?.status, "failed")
        assert.strictEqual(job?.finalStep, 40)
        assert.strictEqual(job?.weightsSha256, "ab".repeat(32))
        assert.strictEqual(job?.detail, "later")
        assert.strictEqual(job?.updatedAtMillis, 2000)
      })))

    it.effect("numbers attempts per job, marks the job running and refuses an attempt of an unknown job", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "j", name: "j", runner: "ec2", specJson: "{}" })
        yield* ledger.setJobStatus("j", "cancelled")
        const one = yield* ledger.startAttempt({ id: "j-1", jobId: "j", runner: "ec2", placement: spot, checkpointEverySeconds: 600 })
        assert.strictEqual(one.sequence, 1)
        assert.strictEqual((yield* ledger.job("j"))?.status, "running")
        yield* ledger.finishAttempt("j-1", { _tag: "Crashed", code: 1, signal: null })
        const two = yield* ledger.startAttempt({ id: "j-2", jobId: "j", runner: "ec2", placement: spot, checkpointEverySeconds: null })
        assert.strictEqual(two.sequence, 2)
        assert.deepStrictEqual(two.placement, spot)
        assert.strictEqual(two.checkpointEverySeconds, null)
        assert.strictEqual(two.outcome, "running")
        const orphan = yield* Effect.flip(ledger.startAttempt({ id: "x-1", jobId: "nope", runner: "ec2", placement: spot, checkpointEverySeconds: null }))
        assert.strictEqual(orphan.operation, "startAttempt")
        assert.deepStrictEqual((yield* ledger.attempts("j")).map((a) => [a.id, a.sequence]), [["j-1", 1], ["j-2", 2]])
      })))

    it.effect("charges hours × price × instances, keeps steps from events and closes an orphan at its last sighting", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "j1", name: "tiny", runner: "ec2", specJson: "{}" })
        yield* ledger.startAttempt({ id: "a1", jobId: "j1", runner: "ec2", placement: spot, checkpointEverySeconds: 600 })
        yield* ledger.attachProcess("a1", { externalId: "i-0abc", pid: 4242, logPath: "/tmp/a1.log" })
        yield* TestClock.adjust("10 minutes")
        yield* ledger.recordEvent("a1", { kind: "started", step: 0, payload: { event: "started", resumedFromStep: null } })
        yield* ledger.recordEvent("a1", { kind: "checkpoint", step: 40, payload: { event: "checkpoint", step: 40 } })
        yield* ledger.touchAttempt("a1", 55)
        yield* ledger.touchAttempt("a1", 50)
        yield* TestClock.adjust("5 minutes")
        const ended = yield* ledger.finishAttempt("a1", { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" })
        assert.strictEqual(ended.exitReason, "interrupted")
        assert.strictEqual(ended.exitCode, 75)
        assert.strictEqual(ended.reason, "Server.SpotInstanceTermination")
        assert.closeTo(ended.costUsd, 0.25 * 3.6 * 2, 1e-9)
        assert.strictEqual(ended.lastCheckpointStep, 40)
        assert.strictEqual(ended.lastStep, 55)
        assert.strictEqual(ended.externalId, "i-0abc")
        assert.strictEqual(ended.pid, 4242)
        assert.strictEqual(ended.endedAtMillis, 15 * 60_000)
        // A touch after the end moves nothing.
        yield* ledger.touchAttempt("a1", 99)
        assert.strictEqual((yield* ledger.attempts("j1"))[0]?.lastStep, 55)

        yield* ledger.startAttempt({ id: "a2", jobId: "j1", runner: "ec2", placement: spot, checkpointEverySeconds: 600 })
        yield* TestClock.adjust("6 minutes")
        yield* ledger.recordEvent("a2", { kind: "started", step: 40, payload: { event: "started", resumedFromStep: 40 } })
        yield* TestClock.adjust("30 minutes")
        const running = (yield* ledger.attempts("j1"))[1]
        assert.closeTo(running?.costUsd ?? 0, 0.1 * 3.6 * 2, 1e-9)
        const lost = yield* ledger.closeOpenAttempts("j1", "supervisor restarted")
        assert.strictEqual(lost.length, 1)
        assert.strictEqual(lost[0]?.exitReason, "lost")
        assert.strictEqual(lost[0]?.exitDetail, "lost (supervisor restarted)")
        assert.strictEqual(lost[0]?.resumedFromStep, 40)
        assert.strictEqual(lost[0]?.endedAtMillis, 21 * 60_000)
        assert.closeTo(lost[0]?.costUsd ?? 0, 0.1 * 3.6 * 2, 1e-9)
        assert.strictEqual((yield* ledger.closeOpenAttempts("j1", "again")).length, 0)
      })))

    it.effect("charges nothing for a launch the engine refused and adds checkpoint transfer to a run", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "p", name: "p", runner: "ec2", specJson: "{}" })
        yield* ledger.startAttempt({ id: "p-1", jobId: "p", runner: "ec2", placement: spot, checkpointEverySeconds: null })
        yield* TestClock.adjust("1 minute")
        const refused = yield* ledger.finishAttempt("p-1", { _tag: "ProvisionFailed", code: "InsufficientInstanceCapacity", detail: "none", scope: "region" }, {
          transferCostUsd: 5
        })
        assert.strictEqual(refused.outcome, "provision-failed")
        assert.strictEqual(refused.reason, "InsufficientInstanceCapacity")
        assert.strictEqual(refused.coolDownScope, "region")
        assert.strictEqual(refused.costUsd, 0)
        assert.strictEqual(refused.transferCostUsd, 0)
        yield* ledger.startAttempt({ id: "p-2", jobId: "p", runner: "ec2", placement: spot, checkpointEverySeconds: null })
        yield* TestClock.adjust("1 hour")
        const done = yield* ledger.finishAttempt("p-2", { _tag: "Completed" }, { transferCostUsd: 0.5 })
        assert.strictEqual(done.exitCode, 0)
        assert.strictEqual(done.transferCostUsd, 0.5)
        assert.closeTo(done.costUsd, 3.6 * 2 + 0.5, 1e-9)
        yield* ledger.startAttempt({ id: "p-3", jobId: "p", runner: "ec2", placement: spot, checkpointEverySeconds: null })
        const cancelled = yield* ledger.finishAttempt("p-3", { _tag: "Cancelled" })
        assert.strictEqual(cancelled.outcome, "cancelled")
      })))

    it.effect("returns events in order, filtered by kind", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "e", name: "e", runner: "local", specJson: "{}" })
        yield* ledger.startAttempt({ id: "e-1", jobId: "e", runner: "local", placement: spot, checkpointEverySeconds: null })
        yield* ledger.recordEvent("e-1", { kind: "started", step: 0, payload: { event: "started" } })
        yield* TestClock.adjust("3 seconds")
        yield* ledger.recordEvent("e-1", { kind: "checkpoint", step: 5, payload: { blockingSeconds: 0.2, bytes: 1000 } })
        yield* ledger.recordEvent("e-1", { kind: "placement", step: null, payload: { choice: "launch" } })
        const all = yield* ledger.events("e")
        assert.deepStrictEqual(all.map((event) => [event.kind, event.step, event.timeMillis]), [["started", 0, 0], ["checkpoint", 5, 3000], ["placement", null, 3000]])
        assert.deepStrictEqual(JSON.parse(all[1]?.payloadJson ?? "null"), { blockingSeconds: 0.2, bytes: 1000 })
        assert.strictEqual(all[0]?.attemptId, "e-1")
        assert.ok((all[0]?.id ?? 0) < (all[1]?.id ?? 0))
        assert.deepStrictEqual((yield* ledger.events("e", ["checkpoint"])).map((event) => event.kind), ["checkpoint"])
        assert.strictEqual((yield* ledger.attempts("e"))[0]?.lastSeenAtMillis, 3000)
      })))

    it.effect("summarises measured throughput per accelerator and precision as the median of recent runs", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "c", name: "cal", runner: "local", specJson: "{}" })
        for (const [i, tps] of [900, 1000, 5000].entries()) {
          yield* ledger.recordCalibration({ jobId: "c", accelerator: "H100", precision: "bf16", tokensPerSecondPerGpu: tps, mfu: tps / 10_000, steps: 50, measuredAtMillis: i })
        }
        yield* ledger.recordCalibration({ jobId: "c", accelerator: "cpu", precision: "fp32", tokensPerSecondPerGpu: 10, mfu: null, steps: 5, measuredAtMillis: 9 })
        assert.deepStrictEqual(yield* ledger.measuredThroughput, [
          { accelerator: "cpu", precision: "fp32", tokensPerSecondPerGpu: 10, mfu: null, runs: 1, lastMeasuredAtMillis: 9 },
          { accelerator: "H100", precision: "bf16", tokensPerSecondPerGpu: 1000, mfu: 0.1, runs: 3, lastMeasuredAtMillis: 2 }
        ])
      })))

    it.effect("keeps the workload a job was made from", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        const workload = { sha256: "cd".repeat(32), json: "{\"name\":\"tiny\"}" }
        const made = yield* ledger.createJob({ id: "w", name: "w", runner: "local", specJson: "{}", workload })
        assert.deepStrictEqual([made.workloadSha256, made.workloadJson], [workload.sha256, workload.json])
        yield* ledger.createJob({ id: "old", name: "old", runner: "local", specJson: "{}" })
        assert.deepStrictEqual([(yield* ledger.job("old"))?.workloadSha256, (yield* ledger.job("old"))?.workloadJson], [null, null])
      })))

    it.effect("refuses a second lease holder naming the first, until the lease expires after its last heartbeat", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* TestClock.adjust("1 hour")
        const first = yield* ledger.acquireLease("job-a", holder(100), { ttlMillis: TTL })
        assert.deepStrictEqual(first.holder, holder(100))
        assert.deepStrictEqual([first.acquiredAtMillis, first.heartbeatAtMillis, first.expiresAtMillis], [3_600_000, 3_600_000, 3_645_000])
        assert.deepStrictEqual(yield* ledger.lease("job-a"), first)

        yield* TestClock.adjust("30 seconds")
        const refused = yield* Effect.flip(ledger.acquireLease("job-a", holder(200, "box-2"), { ttlMillis: TTL }))
        assert.strictEqual(refused._tag, "JobLeased")
        assert.deepStrictEqual(refused._tag === "JobLeased" ? [refused.holderPid, refused.holderHost, refused.checkedAtMillis] : [], [100, "box-1", 3_630_000])
        assert.include(refused.message, "last heartbeat 30 s ago")

        // A heartbeat moves the expiry; once the holder falls silent for the lease's length, the next one takes over.
        const renewed = yield* ledger.renewLease(first, TTL)
        assert.deepStrictEqual([renewed.token, renewed.heartbeatAtMillis, renewed.expiresAtMillis], [first.token, 3_630_000, 3_675_000])
        yield* TestClock.adjust("44 seconds")
        assert.strictEqual((yield* Effect.flip(ledger.acquireLease("job-a", holder(200, "box-2"), { ttlMillis: TTL })))._tag, "JobLeased")
        yield* TestClock.adjust("1 second")
        const second = yield* ledger.acquireLease("job-a", holder(200, "box-2"), { ttlMillis: TTL })
        assert.strictEqual(second.holder.pid, 200)
        assert.notStrictEqual(second.token, first.token)

        // The first holder learns it on its next heartbeat; its release leaves the new lease alone.
        const lost = yield* Effect.flip(ledger.renewLease(first, TTL))
        assert.strictEqual(lost._tag, "LeaseLost")
        assert.include(lost.message, "taken over by pid 200 on box-2 (frugal run)")
        yield* ledger.releaseLease(first)
        assert.strictEqual((yield* ledger.lease("job-a"))?.token, second.token)
        yield* ledger.releaseLease(second)
        assert.isUndefined(yield* ledger.lease("job-a"))
        const released = yield* Effect.flip(ledger.renewLease(second, TTL))
        assert.include(released.message, "the lease was released")
      })))

    it.effect("replaces a live lease only by naming its token (a holder seen gone), never a newer one", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        const dead = yield* ledger.acquireLease("job-b", holder(300), { ttlMillis: TTL })
        const taker = yield* ledger.acquireLease("job-b", holder(400), { ttlMillis: TTL, replacing: dead.token })
        assert.strictEqual(taker.holder.pid, 400)
        const late = yield* Effect.flip(ledger.acquireLease("job-b", holder(500), { ttlMillis: TTL, replacing: dead.token }))
        assert.strictEqual(late._tag === "JobLeased" ? late.holderPid : null, 400)
      })))

    it.effect("grants a lease to exactly one of many processes asking at once", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        const asks = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => i),
          (i) => Effect.result(ledger.acquireLease("job-race", holder(1000 + i), { ttlMillis: TTL })),
          { concurrency: "unbounded" }
        )
        const granted = asks.flatMap((ask) => (ask._tag === "Success" ? [ask.success] : []))
        const refused = asks.flatMap((ask) => (ask._tag === "Failure" ? [ask.failure._tag] : []))
        assert.strictEqual(granted.length, 1)
        assert.deepStrictEqual(refused, Array.from({ length: 7 }, () => "JobLeased"))
        assert.strictEqual((yield* ledger.lease("job-race"))?.token, granted[0]?.token)
      })))

    it.effect("applies another component's migrations once, in version order, and its tables take rows", () =>
      withLedger(backend.fresh, Effect.gen(function*() {
        const ledger = yield* Ledger
        const migrations = [
          { version: 2, description: "index", sql: "CREATE INDEX notes_by_time ON component_notes(at_ms)" },
          { version: 1, description: "notes", sql: "CREATE TABLE component_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, usd REAL)" }
        ]
        assert.deepStrictEqual(yield* ledger.migrate("component", migrations), [1, 2])
        assert.deepStrictEqual(yield* ledger.migrate("component", migrations), [])
        const broken = yield* Effect.flip(ledger.migrate("broken", [{ version: 1, description: "bad", sql: "CREATE TABLE (" }]))
        assert.strictEqual(broken.operation, "migrate")
        // A failed migration is not recorded: fixed, it applies.
        assert.deepStrictEqual(yield* ledger.migrate("broken", [{ version: 1, description: "ok", sql: "CREATE TABLE broken_ok (x TEXT)" }]), [1])
      })))
  })
}
