import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type JobSpec, Ledger, LocalRunner, localPlacement, Supervisor } from "../src/index.ts"

const fakeTrainer = fileURLToPath(new URL("./fixtures/fake-trainer.ts", import.meta.url))

const setup = () => {
  const dir = mkdtempSync(join(tmpdir(), "frugal-supervisor-"))
  const layer = Supervisor.layerWithRunner.pipe(
    Layer.provideMerge(Layer.merge(LocalRunner.layerWith({ graceSeconds: 5 }), Ledger.layerFile(join(dir, "ledger.sqlite"))))
  )
  const spec = (args: ReadonlyArray<string>, checkpointDir = join(dir, "checkpoints")): JobSpec => ({
    name: "fake",
    launch: { argv: [process.execPath, fakeTrainer, ...args], env: {}, workdir: dir, checkpointDir },
    placement: localPlacement(1.8),
    retry: { maxInterruptions: 5, maxCrashes: 2 },
    checkpointEverySeconds: null,
    precision: "fp32"
  })
  return { dir, layer, spec }
}

describe("Supervisor", () => {
  it.live("runs a job to completion, records its attempt, events and measured throughput", () => {
    const { layer, spec } = setup()
    return Effect.gen(function*() {
      const outcome = yield* (yield* Supervisor).run("job-ok", spec(["--max-steps", "8", "--step-ms", "1"]))
      assert.strictEqual(outcome.status, "completed")
      assert.strictEqual(outcome.finalStep, 8)
      assert.match(outcome.weightsSha256 ?? "", /^[0-9a-f]{64}$/)
      assert.deepStrictEqual(outcome.attempts.map((a) => a.exitReason), ["completed"])
      const ledger = yield* Ledger
      assert.strictEqual((yield* ledger.job("job-ok"))?.status, "completed")
      const kinds = (yield* ledger.events("job-ok")).map((e) => e.kind)
      assert.deepStrictEqual(kinds.filter((k) => k !== "step"), ["started", "checkpoint", "completed"])
      const measured = (yield* ledger.measuredThroughput).map(({ lastMeasuredAtMillis: _, ...rest }) => rest)
      assert.deepStrictEqual(measured, [{ accelerator: "cpu", precision: "fp32", tokensPerSecondPerGpu: 3200, mfu: null, runs: 1 }])
    }).pipe(Effect.provide(layer))
  })

  it.live("relaunches after an interruption, resumes from the checkpoint and ends in the same state", () => {
    const { dir, layer, spec } = setup()
    return Effect.gen(function*() {
      const supervisor = yield* Supervisor
      const reference = yield* supervisor.run("job-ref", spec(["--max-steps", "30", "--step-ms", "2"], join(dir, "ref")))
      // The test plays the cloud: a pre-emption signal to the command's pid (from its `started` event).
      let pid = 0
      const outcome = yield* supervisor.run("job-int", spec(["--max-steps", "30", "--step-ms", "2"], join(dir, "int")), {
        onEvent: (attempt, event) =>
          Effect.sync(() => {
            if (event.event === "started") pid = event.pid
            if (event.event === "step" && event.step === 12 && attempt.sequence === 1) process.kill(pid, "SIGTERM")
          })
      })
      assert.strictEqual(outcome.status, "completed")
      assert.deepStrictEqual(outcome.attempts.map((a) => a.exitReason), ["interrupted", "completed"])
      assert.isAtLeast(outcome.attempts[1]?.resumedFromStep ?? 0, 12)
      assert.strictEqual(outcome.weightsSha256, reference.weightsSha256)
      assert.closeTo(outcome.costUsd, outcome.attempts.reduce((s, a) => s + a.costUsd, 0), 1e-12)
    }).pipe(Effect.provide(layer))
  })

  it.live("stops after the crash budget: crashes are counted apart from interruptions", () => {
    const { layer, spec } = setup()
    return Effect.gen(function*() {
      const outcome = yield* (yield* Supervisor).run("job-crash", spec(["--max-steps", "10", "--step-ms", "1", "--crash-at-step", "3"]))
      assert.strictEqual(outcome.status, "failed")
      assert.deepStrictEqual(outcome.attempts.map((a) => a.exitReason), ["crashed", "crashed", "crashed"])
      assert.include(outcome.detail ?? "", "3 crashes, more than the budget of 2")
      assert.strictEqual((yield* (yield* Ledger).job("job-crash"))?.status, "failed")
    }).pipe(Effect.provide(layer))
  })
})

