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

// What a lease means in the ledger (refusal, expiry, renewal, replacement, one winner) is in the conformance suite,
// run on SQLite and PostgreSQL (LedgerConformance.test.ts); here, the keeper that holds one for a supervision.
describe("job leases in the ledger", () => {
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
