import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { defaultLedgerPath, Ledger, type Placement } from "../src/index.ts"
import { applyMigrations, RUNNER_MIGRATIONS } from "../src/LedgerMigrations.ts"

const spot: Placement = {
  instanceType: "g5.xlarge",
  region: "us-east-1",
  availabilityZone: "use1-az4",
  purchaseOption: "spot",
  hourlyPriceUsd: 3.6,
  instanceCount: 1,
  accelerator: "A10G",
  acceleratorsPerInstance: 1,
  interruptionsPerHour: 0.05
}

const freshPath = () => join(mkdtempSync(join(tmpdir(), "frugal-ledger-")), "nested", "ledger.sqlite")

describe("Ledger", () => {
  it.effect("charges each attempt hours × price and closes an orphan as lost at the time it was last seen", () => {
    const path = freshPath()
    return Effect.gen(function*() {
      const ledger = yield* Ledger
      yield* ledger.createJob({ id: "j1", name: "tiny", runner: "local", specJson: "{}" })
      const first = yield* ledger.startAttempt({ id: "a1", jobId: "j1", runner: "local", placement: spot, checkpointEverySeconds: 600 })
      assert.strictEqual(first.sequence, 1)
      yield* ledger.attachProcess("a1", { externalId: "4242", pid: 4242, logPath: "/tmp/a1.log" })
      yield* TestClock.adjust("10 minutes")
      yield* ledger.recordEvent("a1", { kind: "started", step: 0, payload: { event: "started", resumedFromStep: null } })
      yield* ledger.recordEvent("a1", { kind: "checkpoint", step: 40, payload: { event: "checkpoint", step: 40 } })
      yield* TestClock.adjust("5 minutes")
      const ended = yield* ledger.finishAttempt("a1", { _tag: "Interrupted", resumable: true })
      assert.strictEqual(ended.exitReason, "interrupted")
      assert.strictEqual(ended.exitCode, 75)
      assert.closeTo(ended.costUsd, 0.25 * 3.6, 1e-9)
      assert.strictEqual(ended.lastCheckpointStep, 40)

      yield* ledger.startAttempt({ id: "a2", jobId: "j1", runner: "local", placement: spot, checkpointEverySeconds: 600 })
      yield* TestClock.adjust("6 minutes")
      yield* ledger.recordEvent("a2", { kind: "started", step: 40, payload: { event: "started", resumedFromStep: 40 } })
      yield* TestClock.adjust("30 minutes")
      const lost = yield* ledger.closeOpenAttempts("j1", "supervisor restarted")
      assert.strictEqual(lost.length, 1)
      assert.strictEqual(lost[0]?.exitReason, "lost")
      assert.strictEqual(lost[0]?.resumedFromStep, 40)
      assert.closeTo(lost[0]?.costUsd ?? 0, 0.1 * 3.6, 1e-9)
      // 15 minutes of the first attempt, then 6 minutes until the second was last seen.
      assert.strictEqual(lost[0]?.endedAtMillis, 21 * 60_000)
      assert.deepStrictEqual((yield* ledger.closeOpenAttempts("j1", "again")).length, 0)
    }).pipe(Effect.provide(Ledger.layerFile(path)))
  })

  it.effect("keeps everything across reopening the file, and migrations run once", () => {
    const path = freshPath()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* ledger.createJob({ id: "j2", name: "durable", runner: "local", specJson: "{\"a\":1}" })
        yield* ledger.startAttempt({ id: "b1", jobId: "j2", runner: "local", placement: spot, checkpointEverySeconds: null })
        yield* ledger.setJobStatus("j2", "completed", { finalStep: 100, weightsSha256: "ab".repeat(32) })
      }).pipe(Effect.provide(Ledger.layerFile(path)))
      yield* Effect.gen(function*() {
        const ledger = yield* Ledger
        const job = yield* ledger.job("j2")
        assert.strictEqual(job?.status, "completed")
        assert.strictEqual(job?.finalStep, 100)
        assert.strictEqual(job?.specJson, "{\"a\":1}")
        assert.deepStrictEqual((yield* ledger.attempts("j2")).map((a) => a.id), ["b1"])
        assert.deepStrictEqual(yield* ledger.migrate("waste", [
          { version: 1, description: "deliveries", sql: "CREATE TABLE waste_deliveries (id INTEGER PRIMARY KEY)" }
        ]), [1])
        assert.deepStrictEqual(yield* ledger.migrate("waste", [
          { version: 1, description: "deliveries", sql: "CREATE TABLE waste_deliveries (id INTEGER PRIMARY KEY)" }
        ]), [])
      }).pipe(Effect.provide(Ledger.layerFile(path)))
      const db = new DatabaseSync(path, { readOnly: true })
      const mode = db.prepare("PRAGMA journal_mode").get()
      const versions = db.prepare("SELECT component, version FROM frugal_migrations ORDER BY component").all()
      db.close()
      assert.deepStrictEqual(mode, { journal_mode: "wal" })
      assert.deepStrictEqual(versions, [
        { component: "runner", version: 1 },
        { component: "runner", version: 2 },
        { component: "runner", version: 3 },
        { component: "waste", version: 1 }
      ])
    })
  })

  it.effect("migrates a ledger written before provision failures keeping its jobs, attempts and events", () => {
    const path = join(mkdtempSync(join(tmpdir(), "frugal-ledger-")), "ledger.sqlite")
    // A file as the first release left it: only migration 1, one job with an ended attempt and its event.
    const old = new DatabaseSync(path)
    applyMigrations(old, "runner", RUNNER_MIGRATIONS.filter((m) => m.version === 1), 0)
    old.exec(`INSERT INTO jobs (id, name, status, runner, spec_json, created_ms, updated_ms) VALUES ('old', 'old', 'running', 'ec2', '{}', 0, 0);
      INSERT INTO attempts (id, job_id, sequence, runner, instance_type, region, availability_zone, purchase_option, hourly_price_usd,
        instance_count, accelerator, accelerators_per_instance, interruptions_per_hour, started_ms, last_seen_ms, ended_ms, exit_reason, cost_usd)
        VALUES ('old-1', 'old', 1, 'ec2', 'p5.48xlarge', 'us-east-1', 'use1-az4', 'spot', 10, 1, 'H100', 8, 0.1, 0, 3600000, 3600000, 'interrupted', 10);
      INSERT INTO events (job_id, attempt_id, time_ms, kind, step, payload_json) VALUES ('old', 'old-1', 5, 'started', 0, '{}');`)
    old.close()
    return Effect.gen(function*() {
      const ledger = yield* Ledger
      const [attempt] = yield* ledger.attempts("old")
      assert.strictEqual(attempt?.exitReason, "interrupted")
      assert.strictEqual(attempt?.outcome, "interrupted")
      assert.strictEqual(attempt?.placement.runner, "ec2")
      assert.strictEqual(attempt?.costUsd, 10)
      assert.strictEqual((yield* ledger.events("old")).length, 1)
      // The new outcomes: a launch the engine refused costs nothing and names the engine's error.
      yield* ledger.startAttempt({ id: "old-2", jobId: "old", runner: "ec2", placement: spot, checkpointEverySeconds: null })
      const refused = yield* ledger.finishAttempt("old-2", {
        _tag: "ProvisionFailed",
        code: "InsufficientInstanceCapacity",
        detail: "no capacity in use1-az4",
        scope: "pool"
      })
      assert.strictEqual(refused.outcome, "provision-failed")
      assert.strictEqual(refused.reason, "InsufficientInstanceCapacity")
      assert.strictEqual(refused.coolDownScope, "pool")
      assert.strictEqual(refused.costUsd, 0)
      yield* ledger.setJobPolicy("old", "{\"policy\":\"frugal\"}")
      assert.strictEqual((yield* ledger.job("old"))?.policyJson, "{\"policy\":\"frugal\"}")
    }).pipe(Effect.provide(Ledger.layerFile(path)))
  })

  it.effect("summarises measured throughput per accelerator and precision as the median of recent runs", () =>
    Effect.gen(function*() {
      const ledger = yield* Ledger
      yield* ledger.createJob({ id: "j3", name: "cal", runner: "local", specJson: "{}" })
      for (const [i, tps] of [900, 1000, 5000].entries()) {
        yield* ledger.recordCalibration({
          jobId: "j3", accelerator: "H100", precision: "bf16", tokensPerSecondPerGpu: tps, mfu: tps / 10_000, steps: 50, measuredAtMillis: i
        })
      }
      yield* ledger.recordCalibration({
        jobId: "j3", accelerator: "cpu", precision: "fp32", tokensPerSecondPerGpu: 10, mfu: null, steps: 5, measuredAtMillis: 9
      })
      assert.deepStrictEqual(yield* ledger.measuredThroughput, [
        { accelerator: "cpu", precision: "fp32", tokensPerSecondPerGpu: 10, mfu: null, runs: 1, lastMeasuredAtMillis: 9 },
        { accelerator: "H100", precision: "bf16", tokensPerSecondPerGpu: 1000, mfu: 0.1, runs: 3, lastMeasuredAtMillis: 2 }
      ])
    }).pipe(Effect.provide(Ledger.layerFile(freshPath()))))

  it("puts the ledger under FRUGAL_HOME, else XDG_DATA_HOME/frugal", () => {
    assert.strictEqual(defaultLedgerPath({ FRUGAL_HOME: "/srv/frugal" }), "/srv/frugal/ledger.sqlite")
    assert.strictEqual(defaultLedgerPath({ XDG_DATA_HOME: "/data" }), "/data/frugal/ledger.sqlite")
  })
})
