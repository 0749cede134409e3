import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { LocalRunner, localPlacement, Runner, type AttemptRequest } from "../src/index.ts"

const fakeTrainer = fileURLToPath(new URL("./fixtures/fake-trainer.ts", import.meta.url))

const request = (dir: string, args: ReadonlyArray<string>, attemptId = "attempt-1"): AttemptRequest => ({
  jobId: "job-1",
  attemptId,
  placement: localPlacement(),
  launch: {
    argv: [process.execPath, fakeTrainer, ...args],
    env: {},
    workdir: dir,
    checkpointDir: join(dir, "checkpoints")
  },
  checkpointEverySeconds: null,
  logPath: join(dir, "logs", `${attemptId}.log`)
})

const runner = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, LocalRunner.layerWith({ graceSeconds: 5 }))

describe("LocalRunner", () => {
  it.live("streams decoded protocol events and logs stderr and non-protocol stdout", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-local-"))
      const engine = yield* Runner
      const handle = yield* engine.submit(request(dir, ["--max-steps", "6", "--step-ms", "1", "--checkpoint-every-steps", "3"]))
      const events = yield* Stream.runCollect(handle.events)
      const exit = yield* handle.exit
      assert.deepStrictEqual(exit, { _tag: "Completed" })
      assert.deepStrictEqual(events.map((e) => e.event), [
        "started", "step", "step", "step", "checkpoint", "step", "step", "step", "completed"
      ])
      const log = readFileSync(join(dir, "logs", "attempt-1.log"), "utf8")
      assert.include(log, "fake trainer on stderr")
      assert.include(log, "a line that is not protocol")
      const lines = yield* Stream.runCollect(engine.logs({ attemptId: "attempt-1", logPath: handle.logPath }))
      assert.include(lines, "fake trainer on stderr")
    })).pipe(Effect.scoped))

  it.live("passes shell metacharacters in arguments as plain arguments, never through a shell", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-meta-"))
      const marker = join(dir, "pwned")
      const nasty = [
        `; touch ${marker}`,
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `a | touch ${marker}`,
        `&& touch ${marker}`,
        `> ${marker}`,
        "'single' \"double\" \\back",
        "*",
        "$HOME",
        "line\nbreak",
        ""
      ]
      const recorded = join(dir, "argv.json")
      const handle = yield* (yield* Runner).submit(
        request(dir, ["--max-steps", "1", "--step-ms", "1", "--record-argv", recorded, ...nasty])
      )
      yield* Stream.runDrain(handle.events)
      assert.deepStrictEqual(yield* handle.exit, { _tag: "Completed" })
      const received: unknown = JSON.parse(readFileSync(recorded, "utf8"))
      assert.deepStrictEqual(received, ["--max-steps", "1", "--step-ms", "1", "--record-argv", recorded, ...nasty])
      assert.isFalse(existsSync(marker))
    })).pipe(Effect.scoped))

  it.live("cancel sends SIGTERM to the group: the command checkpoints and exits resumable", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-cancel-"))
      const handle = yield* (yield* Runner).submit(request(dir, ["--max-steps", "10000", "--step-ms", "5"]))
      const seen = yield* handle.events.pipe(Stream.takeUntil((e) => e.event === "step" && e.step >= 3), Stream.runCollect)
      yield* handle.cancel()
      const rest = yield* Stream.runCollect(handle.events)
      assert.isAtLeast(seen.length, 4)
      assert.deepStrictEqual(yield* handle.exit, { _tag: "Interrupted", resumable: true })
      assert.strictEqual(rest.at(-1)?.event, "interrupted")
    })).pipe(Effect.scoped))

  it.live("cancel with no grace kills at once: interrupted without a final checkpoint", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-kill-"))
      const handle = yield* (yield* Runner).submit(request(dir, ["--max-steps", "10000", "--step-ms", "5"]))
      yield* handle.events.pipe(Stream.takeUntil((e) => e.event === "step"), Stream.runDrain)
      yield* handle.cancel({ graceSeconds: 0 })
      const rest = yield* Stream.runCollect(handle.events)
      assert.deepStrictEqual(yield* handle.exit, { _tag: "Interrupted", resumable: false })
      assert.isFalse(rest.some((e) => e.event === "interrupted"))
    })).pipe(Effect.scoped))

  it.live("reports a crash with its exit code", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-crash-"))
      const handle = yield* (yield* Runner).submit(request(dir, ["--max-steps", "10", "--step-ms", "1", "--crash-at-step", "4"]))
      yield* Stream.runDrain(handle.events)
      assert.deepStrictEqual(yield* handle.exit, { _tag: "Crashed", code: 3, signal: null })
    })).pipe(Effect.scoped))

  it.live("fails with a RunnerError naming the program when it does not exist", () =>
    runner(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "frugal-missing-"))
      const base = request(dir, [])
      const error = yield* (yield* Runner).submit({ ...base, launch: { ...base.launch, argv: ["no-such-program-frugal"] } }).pipe(
        Effect.flip
      )
      assert.strictEqual(error._tag, "RunnerError")
      assert.include(error.message, "no-such-program-frugal")
    })).pipe(Effect.scoped))
})
