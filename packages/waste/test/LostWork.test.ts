import { assert, describe, it } from "@effect/vitest"
import { Ledger, type Placement } from "@frugal/runner"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LostWorkSource } from "../src/sources/LostWorkSource.ts"

const placement: Placement = {
  instanceType: "p4d.24xlarge",
  region: "us-east-1",
  availabilityZone: "use1-az2",
  purchaseOption: "spot",
  hourlyPriceUsd: 6.5323,
  instanceCount: 2,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: 8,
  interruptionsPerHour: 0.01
}
const at = (iso: string) => TestClock.setTime(Date.parse(iso))

describe("LostWorkSource.layerLedger", () => {
  it.effect("charges the hours since the last checkpoint of attempts that died, from a real ledger file", () =>
    Effect.gen(function*() {
      const path = join(mkdtempSync(join(tmpdir(), "frugal-lost-")), "ledger.sqlite")
      const ledgerLayer = Ledger.layerFile(path)
      yield* Effect.gen(function*() {
        const ledger = yield* Ledger
        yield* at("2026-11-03T10:00:00Z")
        yield* ledger.createJob({ id: "job-1", name: "llama-ft", runner: "ec2", specJson: "{}" })
        yield* ledger.startAttempt({ id: "a-1", jobId: "job-1", runner: "ec2", placement, checkpointEverySeconds: 3600 })
        yield* at("2026-11-03T11:30:00Z")
        yield* ledger.recordEvent("a-1", { kind: "checkpoint", step: 150, payload: {} })
        yield* at("2026-11-03T13:00:00Z")
        yield* ledger.recordEvent("a-1", { kind: "step", step: 300, payload: {} })
        yield* at("2026-11-03T13:30:00Z")
        yield* ledger.finishAttempt("a-1", { _tag: "Crashed", code: 137, signal: null })
        // The next attempt is interrupted but writes a final checkpoint at its last step: nothing lost.
        yield* ledger.startAttempt({ id: "a-2", jobId: "job-1", runner: "ec2", placement, checkpointEverySeconds: 3600 })
        yield* at("2026-11-03T15:00:00Z")
        yield* ledger.recordEvent("a-2", { kind: "step", step: 500, payload: {} })
        yield* ledger.recordEvent("a-2", { kind: "checkpoint", step: 500, payload: {} })
        yield* ledger.finishAttempt("a-2", { _tag: "Interrupted", resumable: true })
      }).pipe(Effect.provide(ledgerLayer))

      const lost = yield* LostWorkSource.use((source) => source.lostWork({ start: "2026-11-02", end: "2026-11-09" })).pipe(
        Effect.provide(LostWorkSource.layerLedger.pipe(Layer.provide(ledgerLayer)))
      )
      assert.strictEqual(lost.length, 1)
      const [row] = lost
      assert.deepStrictEqual([row?.jobId, row?.attempt, row?.purchaseOption, row?.interruptedAt], ["llama-ft", 1, "spot", "2026-11-03T13:30:00.000Z"])
      assert.closeTo(row?.lostHours ?? 0, 2, 1e-9)
      assert.closeTo(row?.lostCostUsd ?? 0, 2 * 6.5323 * 2, 1e-9)

      const outside = yield* LostWorkSource.use((source) => source.lostWork({ start: "2026-11-09", end: "2026-11-16" })).pipe(
        Effect.provide(LostWorkSource.layerLedger.pipe(Layer.provide(ledgerLayer)))
      )
      assert.deepStrictEqual(outside, [])
    }))
})
