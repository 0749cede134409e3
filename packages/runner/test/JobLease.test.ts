import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DEFAULT_LEASE_SECONDS, holderIsGone, holdJobLease, type LeaseHolder, leaseSecondsFor, Ledger } from "../src/index.ts"

const ledgerLayer = () => Ledger.layerFile(join(mkdtempSync(join(tmpdir(), "frugal-lease-")), "ledger.sqlite"))

const holder = (pid: number, host = "box-1"): LeaseHolder => ({ pid, host, pidNamespace: "pid:[4026531836]", label: "frugal run" })
const TTL = DEFAULT_LEASE_SECONDS * 1000

describe("job leases in the ledger", () => {
  it.effect("refuse a second holder naming the first, until the lease expires 45 s after its last heartbeat", () =>
    Effect.gen(function*() {
      const ledger = yield* Ledger
      yield* TestClock.adjust("1 hour")
      const first = yield* ledger.acquireLease("job-a", holder(100), { ttlMillis: TTL })
      assert.strictEqual(first.expiresAtMillis, first.acquiredAtMillis + 45_000)

      yield* TestClock.adjust("30 seconds")
      const refused = yield* Effect.flip(ledger.acquireLease("job-a", holder(200, "box-2"), { ttlMillis: TTL }))
      assert.strictEqual(refused._tag, "JobLeased")
      assert.deepStrictEqual(refused._tag === "JobLeased" ? [refused.holderPid, refused.holderHost] : [], [100, "box-1"])
      assert.include(refused.message, "job job-a is already being run by pid 100 on box-1 (frugal run")
      assert.include(refused.message, "last heartbeat 30 s ago")

      // A heartbeat moves the expiry; once the holder falls silent for 45 s, the next one takes over.
      const renewed = yield* ledger.renewLease(first, TTL)
      assert.strictEqual(renewed.heartbeatAtMillis, first.acquiredAtMillis + 30_000)
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
    }).pipe(Effect.provide(ledgerLayer())))

  it.effect("replace a live lease only by naming its token (a holder seen gone), never a newer one", () =>
    Effect.gen(function*() {
      const ledger = yield* Ledger
      const dead = yield* ledger.acquireLease("job-b", holder(300), { ttlMillis: TTL })
      const taker = yield* ledger.acquireLease("job-b", holder(400), { ttlMillis: TTL, replacing: dead.token })
      assert.strictEqual(taker.holder.pid, 400)
      // A third process that also saw the dead holder comes second: the lease it names is gone, so it is refused.
      const late = yield* Effect.flip(ledger.acquireLease("job-b", holder(500), { ttlMillis: TTL, replacing: dead.token }))
      assert.strictEqual(late._tag === "JobLeased" ? late.holderPid : null, 400)
    }).pipe(Effect.provide(ledgerLayer())))

  it.effect("are held by a scope: renewed every heartbeat, released when it closes, and lost when taken over", () =>
    Effect.gen(function*() {
      const ledger = yield* Ledger
      const scope = yield* Scope.make()
      const held = yield* holdJobLease(ledger, "job-c", { label: "frugal run", renewEveryMillis: 15_000, ttlMillis: TTL }).pipe(
        Scope.provide(scope)
      )
      assert.strictEqual(held.lease.holder.pid, process.pid)
      assert.isNull(held.replaced)
      yield* TestClock.adjust("40 seconds")
      const current = yield* ledger.lease("job-c")
      assert.strictEqual(current?.heartbeatAtMillis, held.lease.acquiredAtMillis + 30_000)
      assert.isTrue(yield* held.holding)
      yield* Scope.close(scope, Exit.void)
      assert.isUndefined(yield* ledger.lease("job-c"))

      // Another process takes an expired lease over; the holder's next renewal fails and says so.
      const again = yield* Scope.make()
      const second = yield* holdJobLease(ledger, "job-d", { label: "frugal run", renewEveryMillis: 15_000, ttlMillis: TTL }).pipe(
        Scope.provide(again)
      )
      const watcher = yield* Effect.forkChild(Effect.flip(second.lost))
      const stolen = yield* Effect.flip(ledger.acquireLease("job-d", holder(600, "box-9"), { ttlMillis: TTL }))
      assert.strictEqual(stolen._tag, "JobLeased")
      const taken = yield* ledger.acquireLease("job-d", holder(600, "box-9"), { ttlMillis: TTL, replacing: second.lease.token })
      yield* TestClock.adjust("15 seconds")
      const lost = yield* Fiber.join(watcher)
      assert.strictEqual(lost._tag, "LeaseLost")
      assert.isFalse(yield* second.holding)
      yield* Scope.close(again, Exit.void)
      assert.strictEqual((yield* ledger.lease("job-d"))?.token, taken.token)
    }).pipe(Effect.provide(ledgerLayer())))
})

describe("holderIsGone", () => {
  const here = { pid: 1, host: "box-1", pidNamespace: "pid:[4026531836]" }
  const dead = () => false
  it("is true only for a holder on this host and pid namespace whose process is not alive", () => {
    assert.isTrue(holderIsGone(holder(77), here, dead))
    assert.isFalse(holderIsGone(holder(77), here, () => true))
    assert.isFalse(holderIsGone(holder(77, "box-2"), here, dead))
    assert.isFalse(holderIsGone({ ...holder(77), pidNamespace: "pid:[4026532000]" }, here, dead))
    assert.isFalse(holderIsGone({ ...holder(77), pidNamespace: null }, { ...here, pidNamespace: null }, dead))
    assert.isFalse(holderIsGone(holder(1), here, dead))
  })

  it("gives a lease at least three heartbeats, and never less than the default", () => {
    assert.strictEqual(leaseSecondsFor(15), 45)
    assert.strictEqual(leaseSecondsFor(1), 45)
    assert.strictEqual(leaseSecondsFor(60), 180)
  })
})
