import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeWorkloadFile } from "@frugal/core"
import { launchForWorkload } from "../src/index.ts"

const python = "/opt/py/bin/python3"

const workload = (yaml: string) =>
  Effect.gen(function*() {
    const decoded = yield* decodeWorkloadFile(yaml, "w.yaml")
    if (decoded.kind !== "single") return yield* Effect.die("expected one workload")
    return decoded.workload
  })

const launch = (yaml: string, pythonAsked: { count: number } = { count: 0 }) =>
  Effect.flatMap(workload(yaml), (w) =>
    launchForWorkload(w, "w.yaml", {
      workloadDirectory: "/srv/spec",
      defaultCheckpointDir: "/home/jobs/j/checkpoints",
      referenceTrainer: Effect.sync(() => {
        pythonAsked.count++
        return { python, pythonPath: "/repo/packages/trainer" }
      }),
      inheritedPythonPath: "/site"
    }))

const training = `name: t
kind: training
model: { parameters: 120K, precision: fp32, layers: 2, hiddenSize: 64, heads: 4, vocabSize: 256 }
training: { tokens: 5120, sequenceLength: 32, microBatchSize: 4 }
`

describe("launchForWorkload", () => {
  it.effect("gives the reference trainer the workload's tokens and sharding; one process needs no torchrun", () =>
    Effect.gen(function*() {
      const spec = yield* launch(training.replace("heads: 4,", "heads: 4, sharding: zero1,"))
      assert.deepStrictEqual(spec.argv.slice(0, 3), [python, "-m", "frugal_trainer"])
      const flag = (name: string) => spec.argv[spec.argv.indexOf(name) + 1]
      assert.strictEqual(flag("--max-tokens"), "5120")
      assert.strictEqual(flag("--sharding"), "zero1")
      assert.strictEqual(spec.processesPerNode, undefined)
      assert.strictEqual(spec.torchrunProgram, undefined)
      assert.strictEqual(spec.env["PYTHONPATH"], "/repo/packages/trainer:/site")
    }))

  it.effect("runs two processes of the reference trainer through frugal_trainer.torchrun with the same Python", () =>
    Effect.gen(function*() {
      const spec = yield* launch(`${training}run: { processesPerNode: 2 }\n`)
      assert.strictEqual(spec.processesPerNode, 2)
      assert.deepStrictEqual(spec.torchrunProgram, [python, "-m", "frugal_trainer.torchrun"])
      assert.strictEqual(spec.argv[0], python)
    }))

  it.effect("a command of the user's own on two processes keeps its argv and PYTHONPATH behind the trainer's", () =>
    Effect.gen(function*() {
      const spec = yield* launch(
        `${training}run: { command: [python3, train.py], env: { PYTHONPATH: /mine }, processesPerNode: 2 }\n`
      )
      assert.deepStrictEqual(spec.argv, ["python3", "train.py"])
      assert.strictEqual(spec.env["PYTHONPATH"], "/repo/packages/trainer:/mine")
      assert.deepStrictEqual(spec.torchrunProgram, [python, "-m", "frugal_trainer.torchrun"])
    }))

  it.effect("a command of the user's own on one process does not look for a Python", () =>
    Effect.gen(function*() {
      const asked = { count: 0 }
      const spec = yield* launch(`${training}run: { command: [./train.sh], processesPerNode: 1 }\n`, asked)
      assert.deepStrictEqual(spec.argv, ["./train.sh"])
      assert.strictEqual(spec.processesPerNode, 1)
      assert.strictEqual(spec.torchrunProgram, undefined)
      assert.strictEqual(asked.count, 0)
    }))
})
