/**
 * The local engine running a job of two processes under torchrun: the real reference trainer on CPU (gloo),
 * real signals. A cancel reaches every rank, they stop at one step with one checkpoint, and the attempt is
 * resumable although torchrun itself exits 1 on a rank's exit 75.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { findPython, trainerPythonRoot } from "@frugal/trainer"
import { type AttemptRequest, LocalRunner, localPlacement, Runner } from "../src/index.ts"

const TINY = [
  "--layers", "2", "--hidden-size", "32", "--heads", "2", "--vocab-size", "64", "--sequence-length", "16",
  "--micro-batch-size", "2", "--max-steps", "400", "--device", "cpu", "--precision", "fp32",
  "--step-delay-seconds", "0.05"
]

const request = (dir: string, python: string): AttemptRequest => ({
  jobId: "job-2p",
  attemptId: "attempt-2p",
  placement: localPlacement(),
  launch: {
    argv: [python, "-m", "frugal_trainer", ...TINY],
    env: { PYTHONPATH: trainerPythonRoot, OMP_NUM_THREADS: "1" },
    workdir: dir,
    checkpointDir: join(dir, "checkpoints"),
    processesPerNode: 2,
    torchrunProgram: [python, "-m", "frugal_trainer.torchrun"]
  },
  checkpointEverySeconds: null,
  logPath: join(dir, "attempt.log")
})

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

describe("LocalRunner under torchrun", () => {
  it.live("a cancel stops both ranks after the same step with one checkpoint, and the attempt is resumable", () =>
    Effect.gen(function*() {
      const python = yield* findPython()
      const dir = mkdtempSync(join(tmpdir(), "frugal-torchrun-"))
      const handle = yield* (yield* Runner).submit(request(dir, python.executable))
      const head = yield* handle.events.pipe(Stream.takeUntil((e) => e.event === "step" && e.step >= 3), Stream.runCollect)
      yield* handle.cancel()
      const rest = yield* Stream.runCollect(handle.events)
      const events = [...head, ...rest]
      assert.deepStrictEqual(yield* handle.exit, { _tag: "Interrupted", resumable: true })
      // Rank 0 alone speaks the protocol: one started event for the job, naming both processes.
      const started = events.filter((e) => e.event === "started")
      assert.strictEqual(started.length, 1)
      assert.strictEqual(started[0]?.event === "started" ? started[0].worldSize : undefined, 2)
      const interrupted = events.find((e) => e.event === "interrupted")
      if (interrupted?.event !== "interrupted") return assert.fail("no interrupted event")
      assert.strictEqual(interrupted.checkpointStep, interrupted.step)
      const folder = join(dir, "checkpoints", `step-${String(interrupted.step).padStart(8, "0")}`)
      const manifest: { readonly worldSize: number; readonly shards: ReadonlyArray<unknown> } = JSON.parse(
        readFileSync(join(folder, "manifest.json"), "utf8")
      )
      assert.strictEqual(manifest.worldSize, 2)
      assert.strictEqual(manifest.shards.length, 2)
      assert.deepStrictEqual(readdirSync(folder).sort(), ["manifest.json", "rank-00000-of-00002.ckpt", "rank-00001-of-00002.ckpt"])
      assert.isFalse(groupAlive(Number(handle.externalId)))
      assert.isTrue(existsSync(join(dir, "attempt.log")))
    }).pipe(Effect.scoped, Effect.provide(LocalRunner.layerWith({ graceSeconds: 60 }))), 120_000)
})
