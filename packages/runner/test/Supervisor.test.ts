import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type AttemptHorizon, type JobPolicy, type JobSpec, Ledger, LocalRunner, localPlacement, type Placement, Runner, RunnerError, Supervisor, type WorkloadIdentity } from "../src/index.ts"

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

  it.live("refuses a second supervisor of a running job, naming the holder; the first runs alone to the end", () => {
    const { layer, spec } = setup()
    return Effect.gen(function*() {
      const supervisor = yield* Supervisor
      let startedOnce: () => void = () => undefined
      const firstStarted = new Promise<void>((resolve) => (startedOnce = resolve))
      const first = yield* Effect.forkChild(supervisor.run("job-once", spec(["--max-steps", "30", "--step-ms", "20"]), {
        onEvent: (_, event) => Effect.sync(() => event.event === "started" && startedOnce())
      }))
      yield* Effect.promise(() => firstStarted)
      const refused = yield* Effect.flip(supervisor.resume("job-once"))
      assert.strictEqual(refused._tag, "JobLeased")
      assert.include(refused.message, `job job-once is already being run by pid ${process.pid}`)
      const outcome = yield* Fiber.join(first)
      assert.strictEqual(outcome.status, "completed")
      assert.deepStrictEqual(outcome.attempts.map((a) => a.exitReason), ["completed"])
      assert.isUndefined(yield* (yield* Ledger).lease("job-once"))
    }).pipe(Effect.provide(layer))
  })

  it.live("refuses another workload for an existing job, naming what differs; its own workload continues it", () => {
    const { layer, spec } = setup()
    const identity = (json: string): WorkloadIdentity => ({ sha256: createHash("sha256").update(json).digest("hex"), json })
    return Effect.gen(function*() {
      const supervisor = yield* Supervisor
      const args = ["--max-steps", "4", "--step-ms", "1"]
      yield* supervisor.run("job-w", spec(args), { workload: identity('{"w":64}') })
      const refused = yield* Effect.flip(supervisor.run("job-w", spec(args), { workload: identity('{"w":128}') }))
      assert.strictEqual(refused._tag, "WorkloadMismatch")
      assert.include(refused.message, "w: the job has 64, this workload has 128")
      const again = yield* supervisor.run("job-w", spec(args), { workload: identity('{"w":64}') })
      assert.strictEqual(again.status, "completed")
      assert.strictEqual(again.attempts.length, 1)
    }).pipe(Effect.provide(layer))
  })

  it.live("stops a job whose relaunch finds its checkpoints gone, unless it may start from scratch", () => {
    const { dir, layer, spec } = setup()
    return Effect.gen(function*() {
      const supervisor = yield* Supervisor
      const checkpoints = join(dir, "lost")
      const job = spec(["--max-steps", "30", "--step-ms", "2"], checkpoints)
      let pid = 0
      // The cloud pre-empts attempt 1 after its checkpoint at step 10; then someone empties the checkpoint directory.
      const hooks = {
        onEvent: (attempt: { readonly sequence: number }, event: { readonly event: string; readonly pid?: number; readonly step?: number }) =>
          Effect.sync(() => {
            if (event.event === "started") pid = event.pid ?? 0
            if (event.event === "checkpoint" && event.step === 10 && attempt.sequence === 1) process.kill(pid, "SIGTERM")
          }),
        onAttemptEnd: () => Effect.sync(() => rmSync(checkpoints, { recursive: true, force: true }))
      }
      const stopped = yield* supervisor.run("job-lost", job, hooks)
      assert.strictEqual(stopped.status, "failed")
      assert.match(stopped.detail ?? "", /^checkpoint lost: the job reported a checkpoint at step 1\d durable, but the relaunched command found none/)
      assert.include(stopped.detail ?? "", "frugal run --resume job-lost --from-scratch")
      assert.deepStrictEqual(stopped.attempts.map((a) => a.exitReason), ["interrupted", "interrupted"])
      const kinds = (yield* (yield* Ledger).events("job-lost")).map((e) => e.kind)
      assert.include(kinds, "checkpoint-loss")

      const again = yield* supervisor.resume("job-lost")
      assert.strictEqual(again.status, "failed")
      const over = yield* supervisor.resume("job-lost", { fromScratch: true })
      assert.strictEqual(over.status, "completed")
      assert.strictEqual(over.finalStep, 30)
    }).pipe(Effect.provide(layer))
  })

  it.live("a launch the engine refuses for a reason other than capacity closes the attempt at no cost and fails the job", () => {
    const dir = mkdtempSync(join(tmpdir(), "frugal-supervisor-"))
    const refusing = Layer.succeed(Runner, Runner.of({
      name: "local",
      submit: (request) =>
        Effect.fail(new RunnerError({ runner: "ec2", operation: "RunInstances", attemptId: request.attemptId, detail: "InvalidSubnetID.NotFound: The subnet ID 'subnet-0bad' does not exist" })),
      stopOrphan: () => Effect.succeed(false),
      logs: () => Stream.empty
    }))
    const layer = Supervisor.layerWithRunner.pipe(Layer.provideMerge(Layer.merge(refusing, Ledger.layerFile(join(dir, "ledger.sqlite")))))
    const spec: JobSpec = {
      name: "refused",
      launch: { argv: ["true"], env: {}, workdir: dir, checkpointDir: join(dir, "checkpoints") },
      placement: localPlacement(2),
      retry: { maxInterruptions: 5, maxCrashes: 2 },
      checkpointEverySeconds: null,
      precision: "fp32"
    }
    return Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Supervisor).run("job-refused", spec))
      assert.strictEqual(error._tag, "RunnerError")
      const ledger = yield* Ledger
      const job = yield* ledger.job("job-refused")
      assert.strictEqual(job?.status, "failed")
      assert.include(job?.detail ?? "", "could not be launched: ec2 runner: RunInstances (job-refused-1): InvalidSubnetID.NotFound")
      const [attempt, ...more] = yield* ledger.attempts("job-refused")
      assert.lengthOf(more, 0)
      assert.strictEqual(attempt?.exitReason, "provision-failed")
      assert.strictEqual(attempt?.reason, "InvalidSubnetID.NotFound")
      assert.strictEqual(attempt?.costUsd, 0)
    }).pipe(Effect.provide(layer))
  })

  it.live("a command that finds every checkpoint invalid (exit 65) stops the job instead of being relaunched", () => {
    const { dir, layer } = setup()
    return Effect.gen(function*() {
      const spec: JobSpec = {
        name: "invalid",
        launch: { argv: [process.execPath, "-e", "process.exit(65)"], env: {}, workdir: dir, checkpointDir: join(dir, "bad") },
        placement: localPlacement(1),
        retry: { maxInterruptions: 5, maxCrashes: 5 },
        checkpointEverySeconds: null,
        precision: "fp32"
      }
      const outcome = yield* (yield* Supervisor).run("job-65", spec)
      assert.strictEqual(outcome.status, "failed")
      assert.deepStrictEqual(outcome.attempts.map((a) => a.exitReason), ["crashed"])
      assert.match(outcome.detail ?? "", /^checkpoint lost: attempt 1 found no valid checkpoint in .*bad \(exit 65\)/)
      assert.include(outcome.detail ?? "", "--from-scratch")
    }).pipe(Effect.provide(layer))
  })

  it.live("stopped between attempts (the policy waiting, say), the job is cancelled, not left running", () => {
    const { dir, layer, spec } = setup()
    return Effect.gen(function*() {
      let pid = 0
      let ended = false
      const fiber = yield* Effect.forkChild((yield* Supervisor).run("job-between", spec(["--max-steps", "30", "--step-ms", "2"], join(dir, "between")), {
        onEvent: (attempt, event) =>
          Effect.sync(() => {
            if (event.event === "started") pid = event.pid
            if (event.event === "step" && event.step === 5 && attempt.sequence === 1) process.kill(pid, "SIGTERM")
          }),
        // Between the interrupted attempt and the next launch: held here until the fiber is interrupted.
        onAttemptEnd: () => Effect.andThen(Effect.sync(() => (ended = true)), Effect.never)
      }))
      while (!ended) yield* Effect.sleep(20)
      yield* Fiber.interrupt(fiber)
      const ledger = yield* Ledger
      assert.strictEqual((yield* ledger.job("job-between"))?.status, "cancelled")
      assert.deepStrictEqual((yield* ledger.attempts("job-between")).map((a) => a.exitReason), ["interrupted"])
      const resumed = yield* (yield* Supervisor).resume("job-between")
      assert.strictEqual(resumed.status, "completed")
    }).pipe(Effect.provide(layer))
  })

  it.live("gives every attempt the hours left at its own placement: a failover to a slower one asks for its share of the work left", () => {
    const dir = mkdtempSync(join(tmpdir(), "frugal-supervisor-"))
    const seen: Array<{ readonly pool: string | null | undefined; readonly horizon: AttemptHorizon | undefined }> = []
    // The local runner, with every request it is sent written down.
    const recording = Layer.effect(Runner, Effect.gen(function*() {
      const inner = yield* Runner
      return Runner.of({
        ...inner,
        submit: (request) => Effect.andThen(Effect.sync(() => seen.push({ pool: request.placement.pool, horizon: request.horizon })), inner.submit(request))
      })
    })).pipe(Layer.provide(LocalRunner.layerWith({ graceSeconds: 5 })))
    const layer = Supervisor.layerWithRunner.pipe(Layer.provideMerge(Layer.merge(recording, Ledger.layerFile(join(dir, "ledger.sqlite")))))
    const fast: Placement = { ...localPlacement(1), pool: "lab/fast", purchaseOption: "spot" }
    const slow: Placement = { ...localPlacement(2), pool: "lab/slow", purchaseOption: "on-demand" }
    const policy: JobPolicy = {
      policy: "on-demand",
      placements: [
        { placement: fast, baseHours: 10, expectedHours: 11, expectedCostUsd: 11 },
        { placement: slow, baseHours: 30, expectedHours: 30, expectedCostUsd: 60 }
      ],
      deadlineHours: 48,
      changeoverHours: 0,
      totalSteps: 30,
      coolDownMinutes: 60,
      waitHours: 0.25,
      checkpointRegion: null,
      checkpointGB: 0,
      catalog: "test"
    }
    const spec: JobSpec = {
      name: "horizon",
      launch: { argv: [process.execPath, fakeTrainer, "--max-steps", "30", "--step-ms", "2"], env: {}, workdir: dir, checkpointDir: join(dir, "checkpoints") },
      placement: fast,
      retry: { maxInterruptions: 5, maxCrashes: 2 },
      checkpointEverySeconds: null,
      precision: "fp32"
    }
    return Effect.gen(function*() {
      let pid = 0
      const outcome = yield* (yield* Supervisor).run("job-horizon", spec, {
        policy,
        onEvent: (attempt, event) =>
          Effect.sync(() => {
            if (event.event === "started") pid = event.pid
            if (event.event === "checkpoint" && event.step === 10 && attempt.sequence === 1) process.kill(pid, "SIGTERM")
          })
      })
      assert.strictEqual(outcome.status, "completed", `${outcome.detail} ${JSON.stringify(outcome.attempts.map((a) => [a.exitReason, a.exitDetail]))}`)
      const [first, second] = outcome.attempts
      assert.deepStrictEqual(seen.map((s) => s.pool), ["lab/fast", "lab/slow"])
      // The first attempt: the whole job on the fast placement, the whole deadline.
      assert.strictEqual(seen[0]?.horizon?.workHours, 10)
      assert.closeTo(seen[0]?.horizon?.deadlineHours ?? 0, 48, 0.01)
      // The failover: the slow placement's 30 h times the work its checkpoint leaves, and the deadline left.
      const done = (first?.lastCheckpointStep ?? 0) / 30
      assert.isAbove(done, 0.3)
      assert.closeTo(seen[1]?.horizon?.workHours ?? 0, 30 * (1 - done), 1e-9)
      assert.isBelow(seen[1]?.horizon?.deadlineHours ?? 48, 48)
      assert.strictEqual(second?.resumedFromStep, first?.lastCheckpointStep)
    }).pipe(Effect.provide(layer))
  })
})
