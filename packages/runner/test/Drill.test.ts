import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { drillJson, interruptionSteps, LocalRunner, runDrill } from "../src/index.ts"

const fakeTrainer = fileURLToPath(new URL("./fixtures/fake-trainer.ts", import.meta.url))

const launch = (dir: string) => ({
  argv: [process.execPath, fakeTrainer, "--max-steps", "60", "--step-ms", "4", "--checkpoint-every-steps", "5"] as const,
  env: {},
  workdir: dir,
  checkpointDir: join(dir, "unused")
})

describe("drill", () => {
  it("draws one interruption step in each of the first N of N+1 slices, the same for the same seed", () => {
    const steps = interruptionSteps(60, 5, 7)
    assert.deepStrictEqual(steps, interruptionSteps(60, 5, 7))
    assert.notDeepEqual(steps, interruptionSteps(60, 5, 8))
    steps.forEach((step, i) => {
      assert.isAtLeast(step, i * 10 + 1)
      assert.isAtMost(step, (i + 1) * 10)
    })
  })

  it.live("SIGTERM five times: every attempt resumes where it stopped and the weights match", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-drill-"))
      const report = yield* runDrill({ ...launch(dir), argv: [...launch(dir).argv] }, {
        interruptions: 5,
        seed: 1,
        hardKill: false,
        workDirectory: dir
      })
      assert.isTrue(report.identical)
      assert.strictEqual(report.interruptions.length, 5)
      for (const interruption of report.interruptions) {
        assert.strictEqual(interruption.lostSteps, 0)
        assert.strictEqual(interruption.resumedFromStep, interruption.atStep)
      }
      assert.deepStrictEqual(Object.keys(drillJson(report)), [
        "identical", "referenceHash", "finalHash", "interruptions", "checkpointOverheadPct"
      ])
    }).pipe(Effect.provide(LocalRunner.layerWith({ graceSeconds: 10 }))))

  it.live("SIGKILL: each attempt resumes from the newest durable checkpoint, losing at most one interval", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-drill-hard-"))
      const report = yield* runDrill({ ...launch(dir), argv: [...launch(dir).argv] }, {
        interruptions: 3,
        seed: 2,
        hardKill: true,
        workDirectory: dir
      })
      assert.isTrue(report.identical)
      assert.strictEqual(report.interruptions.length, 3)
      for (const interruption of report.interruptions) {
        assert.strictEqual(interruption.signal, "SIGKILL")
        // The newest checkpoint it reported, or a newer one it made durable but was killed before reporting.
        assert.isAtLeast(interruption.resumedFromStep, interruption.lastCheckpointStep ?? 0)
        assert.isAtMost(interruption.resumedFromStep, interruption.atStep)
        assert.isAtMost(interruption.lostSteps, 5)
      }
    }).pipe(Effect.provide(LocalRunner.layerWith({ graceSeconds: 10 }))))
})
