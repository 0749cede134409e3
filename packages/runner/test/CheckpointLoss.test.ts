import { assert, describe, it } from "@effect/vitest"
import type { StartedEvent } from "@frugal/trainer"
import { checkpointLossDetail, detectMissingCheckpoint, expectedCheckpointStep, freshStarts, localPlacement } from "../src/index.ts"
import type { AttemptRecord, EventRecord } from "../src/index.ts"

const attempt = (sequence: number, lastCheckpointStep: number | null): AttemptRecord => ({
  id: `j-${sequence}`,
  jobId: "j",
  sequence,
  runner: "local",
  placement: localPlacement(1),
  checkpointEverySeconds: null,
  externalId: null,
  pid: null,
  logPath: null,
  startedAtMillis: 0,
  lastSeenAtMillis: 0,
  endedAtMillis: 0,
  exitReason: "interrupted",
  outcome: "interrupted",
  reason: null,
  coolDownScope: null,
  exitCode: 75,
  exitDetail: null,
  resumedFromStep: null,
  lastStep: null,
  lastCheckpointStep,
  transferCostUsd: 0,
  costUsd: 0
})

const event = (sequence: number, kind: string, payload: unknown): EventRecord => ({
  id: sequence * 10,
  jobId: "j",
  attemptId: `j-${sequence}`,
  timeMillis: 0,
  kind,
  step: null,
  payloadJson: JSON.stringify(payload)
})

const started = (resumedFromStep: number | null): StartedEvent => ({
  event: "started",
  time: "2026-11-23T07:00:00Z",
  step: resumedFromStep ?? 0,
  resumedFromStep,
  tokensSeen: 0,
  device: "cpu",
  precision: "fp32",
  pid: 1
})

describe("checkpoint loss", () => {
  it("expects the newest checkpoint since the job last started from step 0 on purpose", () => {
    const attempts = [attempt(1, 20), attempt(2, 35), attempt(3, null), attempt(4, 5)]
    assert.strictEqual(expectedCheckpointStep(attempts.slice(0, 2), new Set(["j-1"])), 35)
    // Attempt 3 started over (allowed): what came before no longer counts; attempt 4's checkpoint does.
    const events = [event(1, "started", { resumedFromStep: null }), event(2, "started", { resumedFromStep: 20 }), event(3, "started", { resumedFromStep: null })]
    assert.deepStrictEqual([...freshStarts(events)], ["j-1", "j-3"])
    assert.strictEqual(expectedCheckpointStep(attempts.slice(0, 3), freshStarts(events)), null)
    assert.strictEqual(expectedCheckpointStep(attempts, freshStarts(events)), 5)
  })

  it("does not count a start from step 0 that was stopped as a loss: the checkpoint is still expected", () => {
    const events = [
      event(1, "started", { resumedFromStep: null }),
      event(2, "started", { resumedFromStep: null }),
      event(2, "checkpoint-loss", { _tag: "Missing", expectedStep: 20, checkpointDir: "/c" })
    ]
    assert.deepStrictEqual([...freshStarts(events)], ["j-1"])
    assert.strictEqual(expectedCheckpointStep([attempt(1, 20), attempt(2, null)], freshStarts(events)), 20)
  })

  it("finds a relaunch that started from step 0 while a checkpoint is expected, and only that", () => {
    const expected = { step: 20, checkpointDir: "/ckpt" }
    assert.deepStrictEqual(detectMissingCheckpoint(started(null), expected), { _tag: "Missing", expectedStep: 20, checkpointDir: "/ckpt" })
    assert.isNull(detectMissingCheckpoint(started(15), expected))
    assert.isNull(detectMissingCheckpoint(started(null), null))
  })

  it("says which files failed which check and the two ways on", () => {
    const detail = checkpointLossDetail({
      _tag: "Invalid",
      event: {
        event: "checkpoints-invalid",
        time: "2026-11-23T07:00:00Z",
        checkpointDir: "/ckpt",
        rejected: [
          { path: "/ckpt/step-00000010.ckpt", step: 10, reason: "checksum mismatch (file torn, truncated or altered)" },
          { path: "/ckpt/step-00000005", step: 5, reason: "rank-00001-of-00002.ckpt has 10 bytes, the manifest says 99 (torn or truncated)" }
        ]
      }
    }, "job-7")
    assert.strictEqual(detail.split("\n")[0], "checkpoint lost: no valid checkpoint in /ckpt; every one failed verification:")
    assert.include(detail, "  /ckpt/step-00000010.ckpt (step 10): checksum mismatch (file torn, truncated or altered)")
    assert.include(detail, "  /ckpt/step-00000005 (step 5): rank-00001-of-00002.ckpt has 10 bytes")
    assert.include(detail, "frugal run --resume job-7 --from-scratch")
  })
})
