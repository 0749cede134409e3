import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeWorkloadFile, type Workload } from "@frugal/core"
import { canonicalJson, workloadDifferences, workloadIdentity, WorkloadMismatch } from "../src/index.ts"

const decode = (text: string): Effect.Effect<Workload, unknown> =>
  Effect.flatMap(decodeWorkloadFile(text, "test"), (file) =>
    file.kind === "single" ? Effect.succeed(file.workload) : Effect.fail("a fleet"))

const yaml = `
name: tiny
kind: training
model:
  parameters: 120K
  precision: fp32
  layers: 2
  hiddenSize: 64
training:
  tokens: 5120
run:
  command: [python3, train.py, --hidden, "64"]
`

describe("a workload's identity", () => {
  it.effect("is the same for the same workload written as YAML or JSON, in any key order, with 120K or 120000", () =>
    Effect.gen(function*() {
      const fromYaml = workloadIdentity(yield* decode(yaml))
      const json = JSON.stringify({
        training: { tokens: 5120 },
        run: { command: ["python3", "train.py", "--hidden", "64"] },
        model: { hiddenSize: 64, layers: 2, precision: "fp32", parameters: 120000 },
        kind: "training",
        name: "tiny"
      })
      const fromJson = workloadIdentity(yield* decode(json))
      assert.strictEqual(fromJson.sha256, fromYaml.sha256)
      assert.match(fromYaml.sha256, /^[0-9a-f]{64}$/)
      assert.strictEqual(fromJson.json, fromYaml.json)
    }))

  it.effect("differs with any setting, and the differences name each field path with both values", () =>
    Effect.gen(function*() {
      const job = workloadIdentity(yield* decode(yaml))
      const given = workloadIdentity(
        yield* decode(yaml.replace("hiddenSize: 64", "hiddenSize: 128").replace('"64"]', '"128"]').replace("  layers: 2\n", "") +
          "constraints:\n  deadlineHours: 12\n")
      )
      assert.notStrictEqual(given.sha256, job.sha256)
      assert.deepStrictEqual(workloadDifferences(job.json, given.json), [
        { path: "constraints.deadlineHours", job: "(absent)", given: "12" },
        { path: "model.hiddenSize", job: "64", given: "128" },
        { path: "model.layers", job: "2", given: "(absent)" },
        { path: "run.command[3]", job: "\"64\"", given: "\"128\"" }
      ])
    }))

  it("lists at most twenty differences and shortens long values", () => {
    const job = canonicalJson({ a: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, i])), long: "x".repeat(100) })
    const given = canonicalJson({ a: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, i + 1])), long: "y" })
    const differences = workloadDifferences(job, given)
    assert.strictEqual(differences.length, 26)
    const message = new WorkloadMismatch({ jobId: "j", differences }).message
    assert.include(message, "job j was created from another workload")
    assert.include(message, "… and 6 more")
    assert.include(message, "frugal run --resume j")
    const long = differences.find((d) => d.path === "long")
    assert.strictEqual(long?.job.length, 60)
    assert.isTrue(long?.job.endsWith("…"))
  })
})
