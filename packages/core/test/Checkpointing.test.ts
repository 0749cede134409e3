import { assert, describe, it } from "@effect/vitest"
import {
  checkpointBytes,
  checkpointWriteHours,
  dalyIntervalHours,
  DEFAULT_CHECKPOINT_WRITE_GBPS,
  expectedLostHoursPerInterruption,
  expectedOverheadFraction,
  expectedWallClockHours,
  youngDalyIntervalHours
} from "../src/Checkpointing.ts"

describe("Checkpointing", () => {
  it("checkpoints every √(2·δ·M): a 5-minute write with an interruption a day → every 2 hours", () => {
    assert.approximately(youngDalyIntervalHours(5 / 60, 24), 2, 1e-12)
    // Young 1974's own example scale: δ = 30 s, M = 10 h → √(2·(1/120)·10) ≈ 0.408 h ≈ 24.5 minutes.
    assert.approximately(youngDalyIntervalHours(1 / 120, 10) * 60, 24.49, 0.01)
  })

  it("never checkpoints for time's sake when nothing interrupts", () => {
    assert.strictEqual(youngDalyIntervalHours(0.1, Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY)
    assert.strictEqual(youngDalyIntervalHours(0, 10), Number.POSITIVE_INFINITY)
  })

  it("refines the interval with Daly's higher-order terms, close to Young's when δ ≪ M", () => {
    const young = youngDalyIntervalHours(5 / 60, 24)
    const daly = dalyIntervalHours(5 / 60, 24)
    assert.approximately(daly, young * (1 + Math.sqrt((5 / 60) / 48) / 3 + (5 / 60) / (18 * 24)) - 5 / 60, 1e-12)
    assert.approximately(daly / young, 1, 0.05)
    assert.strictEqual(dalyIntervalHours(30, 10), 10)
  })

  it("loses √(2δ/M) of the time at the optimum interval (first order)", () => {
    const d = 5 / 60
    const m = 24
    const overhead = expectedOverheadFraction({
      intervalHours: youngDalyIntervalHours(d, m),
      checkpointWriteHours: d,
      mtbfHours: m,
      restartHours: 0
    })
    assert.approximately(overhead, Math.sqrt((2 * d) / m), 1e-12)
    assert.approximately(
      expectedWallClockHours({ computeHours: 100, intervalHours: 2, checkpointWriteHours: d, mtbfHours: m, restartHours: 0.25 }),
      100 * (1 + d / 2 + (1 + 0.25) / 24),
      1e-9
    )
  })

  it("loses half an interval plus the restart per interruption", () => {
    assert.strictEqual(expectedLostHoursPerInterruption(2, 0.25), 1.25)
  })

  it("sizes a resumable AdamW checkpoint at 12 bytes per parameter: the bench's 219.3M GPT is 2.63 GB", () => {
    assert.approximately(checkpointBytes(219.3e6, "adamw") / 1e9, 2.63, 0.005)
    assert.approximately(checkpointWriteHours(2.63e9) * 3600, 3.93, 1e-9)
    assert.approximately(DEFAULT_CHECKPOINT_WRITE_GBPS, 0.669, 0.001)
    assert.approximately(checkpointWriteHours(2.63e9, 8) * 3600, 3.93 / 8, 1e-9)
  })
})
