import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect } from "effect"
import fc from "fast-check"
import type { InputIssue } from "../src/Errors.ts"
import { parseQuantity } from "../src/Workload.ts"
import { decodeWorkloadFile, type WorkloadFile, workloadsOf } from "../src/WorkloadFile.ts"

const decode = (text: string) => Effect.runSync(Effect.result(decodeWorkloadFile(text, "spec.yaml")))

const ok = (text: string): WorkloadFile => {
  const result = decode(text)
  if (result._tag === "Failure") throw new Error(`expected success, got ${result.failure.message}`)
  return result.success
}

const issues = (text: string): ReadonlyArray<InputIssue> => {
  const result = decode(text)
  if (result._tag === "Success") throw new Error(`expected a failure, decoded ${JSON.stringify(result.success)}`)
  assert.strictEqual(result.failure._tag, "InvalidInput")
  assert.strictEqual(result.failure.source, "spec.yaml")
  return result.failure.issues
}

const issueAt = (all: ReadonlyArray<InputIssue>, path: string): InputIssue => {
  const found = all.find((issue) => issue.path === path)
  if (found === undefined) throw new Error(`no issue at ${path}; got ${JSON.stringify(all)}`)
  return found
}

const training = `
name: llama-7b-finetune
kind: training
model:
  parameters: 7B
training:
  tokens: 20B
`

describe("fine-tuning methods", () => {
  it("defaults to a full fine-tune and decodes LoRA and QLoRA with their rank, targets or trainable fraction", () => {
    const [full] = workloadsOf(ok(training))
    assert.strictEqual(full?.kind === "training" ? full.model.finetune : undefined, "full")
    const [lora] = workloadsOf(ok(training.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  loraRank: 8\n  loraTargets: [q, v]")))
    assert.deepStrictEqual(
      lora?.kind === "training" ? [lora.model.finetune, lora.model.loraRank, lora.model.loraTargets] : undefined,
      ["lora", 8, ["q", "v"]]
    )
    const [qlora] = workloadsOf(ok(training.replace("parameters: 7B", "parameters: 7B\n  finetune: qlora\n  precision: fp16\n  trainableFraction: 0.01")))
    assert.deepStrictEqual(qlora?.kind === "training" ? [qlora.model.finetune, qlora.model.trainableFraction] : undefined, ["qlora", 0.01])
  })

  it("rejects LoRA fields on a full fine-tune, and QLoRA outside bf16/fp16, naming the field and the value", () => {
    const rank = issueAt(issues(training.replace("parameters: 7B", "parameters: 7B\n  loraRank: 16")), "model.loraRank")
    assert.include(rank.expected, "only with finetune: lora or qlora")
    assert.strictEqual(rank.actual, "16")
    const precision = issueAt(issues(training.replace("parameters: 7B", "parameters: 7B\n  finetune: qlora\n  precision: fp32")), "model.precision")
    assert.include(precision.expected, "bf16 or fp16")
    assert.strictEqual(precision.actual, "\"fp32\"")
  })
})

describe("Workload spec", () => {
  it("decodes a minimal training workload and fills the documented defaults", () => {
    const file = ok(training)
    assert.strictEqual(file.kind, "single")
    const [w] = workloadsOf(file)
    if (w?.kind !== "training") throw new Error("expected training")
    assert.strictEqual(w.model.parameters, 7e9)
    assert.strictEqual(w.model.precision, "bf16")
    assert.strictEqual(w.model.optimizer, "adamw")
    assert.strictEqual(w.model.sharding, undefined)
    assert.strictEqual(w.training.tokens, 20e9)
    assert.strictEqual(w.training.sequenceLength, 4096)
    assert.strictEqual(w.training.microBatchSize, 1)
    assert.strictEqual(w.training.activationCheckpointing, false)
    assert.strictEqual(w.constraints.interruptible, true)
  })

  it("makes inference non-interruptible and batch interruptible by default", () => {
    const [inference] = workloadsOf(ok(`
name: chat
kind: inference
model: { parameters: 70B }
inference: { tokensPerSecond: 2000 }
`))
    assert.strictEqual(inference?.constraints.interruptible, false)
    if (inference?.kind !== "inference") throw new Error("expected inference")
    assert.strictEqual(inference.inference.hoursPerMonth, 730)
    const [batch] = workloadsOf(ok(`{"name":"embed","kind":"batch","batch":{"gpuHours":100,"referenceGpu":"t4"}}`))
    assert.strictEqual(batch?.constraints.interruptible, true)
    if (batch?.kind !== "batch") throw new Error("expected batch")
    assert.strictEqual(batch.batch.referenceGpu, "T4")
  })

  it("decodes the full example of the architecture document", () => {
    const [w] = workloadsOf(ok(`
name: llama-7b-finetune
kind: training
model:
  parameters: 7B
  precision: bf16
  optimizer: adamw
  sharding: fsdp
  layers: 32
  hiddenSize: 4096
  heads: 32
  vocabSize: 32000
training:
  tokens: 20B
  sequenceLength: 4096
  microBatchSize: 1
  activationCheckpointing: false
resources:
  accelerators: [H100, a100-80gb]
  purchaseOptions: [spot, on-demand, reserved, savings-plan]
constraints:
  deadlineHours: 72
  budgetUsd: 5000
  regions: [us-east-1, us-west-2]
  interruptible: true
data:
  region: us-east-1
  sizeGB: 500
run:
  command: [python3, train.py, --config, cfg.yaml]
  env: { HF_HOME: /cache }
  workdir: .
  checkpointDir: ./checkpoints
`))
    if (w?.kind !== "training") throw new Error("expected training")
    assert.deepStrictEqual(w.resources?.accelerators, [
      { accelerator: "H100", count: null },
      { accelerator: "A100-80GB", count: null }
    ])
    assert.deepStrictEqual(w.run?.command, ["python3", "train.py", "--config", "cfg.yaml"])
    assert.deepStrictEqual(w.run?.env, { HF_HOME: "/cache" })
    assert.strictEqual(w.constraints.deadlineHours, 72)
    assert.strictEqual(w.data?.sizeGB, 500)
    assert.strictEqual(w.model.layers, 32)
  })

  it("reads accelerator names in any case, pins counts and expands the A100 family", () => {
    const [w] = workloadsOf(ok(`${training}resources: { accelerators: "A100:8" }\n`))
    assert.deepStrictEqual(w?.resources?.accelerators, [
      { accelerator: "A100-40GB", count: 8 },
      { accelerator: "A100-80GB", count: 8 }
    ])
    const [v] = workloadsOf(ok(`${training}resources: { accelerators: [radeon-v520, TRAINIUM2, l40s] }\n`))
    assert.deepStrictEqual(v?.resources?.accelerators?.map((r) => r.accelerator), ["Radeon-V520", "Trainium2", "L40S"])
  })

  it("decodes a fleet and keeps the order", () => {
    const file = ok(`
workloads:
  - { name: a, kind: batch, batch: { gpuHours: 1, referenceGpu: L4 } }
  - { name: b, kind: inference, model: { parameters: 8B }, inference: { tokensPerSecond: 100 } }
`)
    assert.strictEqual(file.kind, "fleet")
    assert.deepStrictEqual(workloadsOf(file).map((w) => w.name), ["a", "b"])
  })

  it("parses K/M/B/T suffixes, exponents and underscores", () => {
    assert.strictEqual(parseQuantity("7B"), 7e9)
    assert.strictEqual(parseQuantity("1.5t"), 1.5e12)
    assert.strictEqual(parseQuantity("300M"), 3e8)
    assert.strictEqual(parseQuantity("125k"), 125e3)
    assert.strictEqual(parseQuantity("7e9"), 7e9)
    assert.strictEqual(parseQuantity("7_000_000"), 7e6)
    assert.strictEqual(parseQuantity("7X"), undefined)
    assert.strictEqual(parseQuantity("B"), undefined)
    assert.strictEqual(parseQuantity("-7B"), undefined)
  })
})

describe("Workload spec errors", () => {
  it("names a misspelt key with its path and suggests the right one", () => {
    const issue = issueAt(issues(`${training}constraints:\n  deadlinHours: 72\n`), "constraints.deadlinHours")
    assert.include(issue.expected, "did you mean deadlineHours?")
    assert.strictEqual(issue.actual, "72")
  })

  it("rejects an unknown top-level key and a section that does not belong to the kind", () => {
    const all = issues(`${training}inference: { tokensPerSecond: 5 }\nbudget: 5\n`)
    issueAt(all, "inference")
    issueAt(all, "budget")
  })

  it("reports every issue of every workload of a fleet together, with indexed paths", () => {
    const all = issues(`
workloads:
  - name: a
    kind: training
    model: { parameters: -5, precision: fp64 }
    training: { tokens: 2X, microBatchSize: 1.5 }
  - name: b
    kind: inferenc
  - name: c
    kind: batch
    batch: { gpuHours: 0, referenceGpu: Z100 }
  - name: d
    kind: inference
`)
    assert.include(issueAt(all, "workloads[0].model.parameters").expected, "at most 100T")
    assert.strictEqual(issueAt(all, "workloads[0].model.parameters").actual, "-5")
    assert.include(issueAt(all, "workloads[0].model.precision").expected, "fp32, tf32, bf16, fp16, fp8")
    assert.strictEqual(issueAt(all, "workloads[0].training.tokens").actual, `"2X"`)
    assert.include(issueAt(all, "workloads[0].training.microBatchSize").expected, "whole number")
    assert.strictEqual(issueAt(all, "workloads[1].kind").expected, "one of training, inference, batch")
    assert.include(issueAt(all, "workloads[2].batch.gpuHours").expected, "greater than 0")
    assert.include(issueAt(all, "workloads[2].batch.referenceGpu").expected, "A100-80GB")
    const missing = issueAt(all, "workloads[3].model")
    assert.strictEqual(missing.actual, undefined)
    assert.include(missing.expected, "parameters")
    issueAt(all, "workloads[3].inference")
  })

  it("names the bounds of absurd numbers", () => {
    const all = issues(`
name: x
kind: training
model: { parameters: 200T }
training: { tokens: 1T, sequenceLength: 0 }
constraints: { deadlineHours: 1000000, budgetUsd: -1, regions: [mars-1] }
`)
    assert.include(issueAt(all, "model.parameters").expected, "at most 100T")
    assert.include(issueAt(all, "training.sequenceLength").expected, "at least 1")
    assert.include(issueAt(all, "constraints.deadlineHours").expected, "87,600")
    assert.include(issueAt(all, "constraints.budgetUsd").expected, "greater than 0")
    assert.include(issueAt(all, "constraints.regions[0]").expected, "us-east-1")
  })

  it("rejects names that are not DNS-label-like", () => {
    assert.include(issueAt(issues(training.replace("llama-7b-finetune", "Llama_7B")), "name").expected, "lowercase")
    assert.include(issueAt(issues(training.replace("llama-7b-finetune", "a".repeat(64))), "name").expected, "63")
    issueAt(issues(training.replace("llama-7b-finetune", "-a")), "name")
  })

  it("requires heads to divide hiddenSize", () => {
    const issue = issueAt(issues(`${training.replace("parameters: 7B", "parameters: 7B\n  hiddenSize: 4096\n  heads: 7")}`), "model.heads")
    assert.include(issue.expected, "divisor of hiddenSize")
  })

  it("requires kvHeads to divide heads", () => {
    const spec = training.replace("parameters: 7B", "parameters: 7B\n  hiddenSize: 4096\n  heads: 32\n  kvHeads: 5")
    assert.include(issueAt(issues(spec), "model.kvHeads").expected, "divisor of heads 32")
  })

  it("wants run.command as an argv list and env values as strings", () => {
    const all = issues(`${training}run: { command: "python train.py", env: { A: 1, "BAD-NAME": "x" } }\n`)
    assert.include(issueAt(all, "run.command").expected, "argv")
    assert.include(issueAt(all, "run.env.A").expected, "string")
    assert.isTrue(all.some((issue) => issue.path.startsWith("run.env")))
  })

  it("takes run.processesPerNode as a whole number from 1, and names the field otherwise", () => {
    const [w] = workloadsOf(ok(`${training}run: { processesPerNode: 4 }\n`))
    assert.strictEqual(w?.run?.processesPerNode, 4)
    for (const bad of ["0", "1.5", "two"]) {
      const issue = issueAt(issues(`${training}run: { processesPerNode: ${bad} }\n`), "run.processesPerNode")
      assert.include(issue.expected, "a whole number of processes per node at least 1")
    }
  })

  it("rejects wrong types with the value shown", () => {
    const all = issues(`
name: 12
kind: training
model: { parameters: [7] }
training: { tokens: true, activationCheckpointing: "yes" }
constraints: { interruptible: 1 }
`)
    assert.strictEqual(issueAt(all, "name").actual, "12")
    assert.strictEqual(issueAt(all, "model.parameters").actual, "[7]")
    assert.strictEqual(issueAt(all, "training.tokens").actual, "true")
    assert.strictEqual(issueAt(all, "training.activationCheckpointing").expected, "true or false")
    assert.strictEqual(issueAt(all, "constraints.interruptible").actual, "1")
  })

  it("rejects unknown accelerators and purchase options", () => {
    const all = issues(`${training}resources: { accelerators: [H100, X9000, "H100:zero"], purchaseOptions: [spot, cheap] }\n`)
    assert.strictEqual(issueAt(all, "resources.accelerators[1]").actual, `"X9000"`)
    issueAt(all, "resources.accelerators[2]")
    assert.include(issueAt(all, "resources.purchaseOptions[1]").expected, "on-demand")
  })

  it("shortens long values", () => {
    const issue = issueAt(issues(training.replace("7B", "x".repeat(500))), "model.parameters")
    assert.isAtMost(issue.actual?.length ?? 0, 60)
  })

  it("rejects duplicate workload names in a fleet", () => {
    const all = issues(`
workloads:
  - { name: a, kind: batch, batch: { gpuHours: 1, referenceGpu: L4 } }
  - { name: a, kind: batch, batch: { gpuHours: 2, referenceGpu: L4 } }
`)
    assert.include(issueAt(all, "workloads[1].name").expected, "unused")
  })

  it.each([
    ["an empty file", ""],
    ["only whitespace", "  \n\n "],
    ["only a comment", "# nothing\n"],
    ["a YAML scalar", "hello"],
    ["a number", "42"],
    ["a list", "[1, 2]"],
    ["null", "null"],
    ["binary garbage", "\u0000\u0001\u0002\uFFFD\uFFFD ELF"],
    ["broken YAML", "name: [unclosed\nkind: training"],
    ["broken JSON", `{"name": "x",`],
    ["a duplicate key", "name: a\nname: b\nkind: batch\n"],
    ["a duplicate key in JSON", `{"name":"a","name":"b"}`],
    ["an empty fleet", "workloads: []"],
    ["a fleet that is not a list", "workloads: 3"],
    ["tabs for indentation", "name: a\nkind: batch\nbatch:\n\tgpuHours: 1\n"]
  ])("rejects %s as InvalidInput", (_, text) => {
    assert.isAbove(issues(text).length, 0)
  })

  it("stops an alias bomb at once", () => {
    const rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i)
      const next = String.fromCharCode(97 + i)
      rows.push(`${next}: &${next} [${Array.from({ length: 10 }, () => `*${prev}`).join(", ")}]`)
    }
    const all = issues(rows.join("\n"))
    assert.include(all[0]?.expected ?? "", "alias")
  })

  it("says an empty file is empty", () => {
    assert.strictEqual(issues("")[0]?.actual, "an empty file")
    assert.strictEqual(issues("")[0]?.path, "")
  })

  it("finds duplicate keys in JSON, nested too, without confusing strings that contain quotes and colons", () => {
    const nested = issues(`{"name":"a","kind":"batch","batch":{"gpuHours":1,"referenceGpu":"T4","gpuHours":2}}`)
    assert.strictEqual(nested[0]?.expected, "a mapping without duplicate keys")
    assert.include(nested[0]?.actual ?? "", "gpuHours")
    const tricky = ok(
      `{"name":"a","kind":"batch","batch":{"gpuHours":1,"referenceGpu":"T4"},"run":{"env":{"A":"x\\\":y","B":"{\\"name\\":1}"}}}`
    )
    assert.strictEqual(tricky.kind, "single")
    // The same key in sibling objects is fine.
    ok(`{"workloads":[{"name":"a","kind":"batch","batch":{"gpuHours":1,"referenceGpu":"T4"}},{"name":"b","kind":"batch","batch":{"gpuHours":1,"referenceGpu":"T4"}}]}`)
  })

  it("points a duplicate key at its line", () => {
    assert.include(issues("name: a\nname: b\n")[0]?.actual ?? "", "line 2")
  })
})

describe("Workload spec robustness", () => {
  it("answers any text with a workload or InvalidInput, never a crash", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary", maxLength: 200 })), (text) => {
        const exit = Effect.runSyncExit(decodeWorkloadFile(text, "fuzz"))
        if (exit._tag === "Failure") {
          const error = Cause.findErrorOption(exit.cause)
          return error._tag === "Some" && error.value._tag === "InvalidInput" && error.value.issues.length > 0
        }
        return true
      }),
      { numRuns: 300, seed: 42 }
    )
  })

  it("answers any JSON value in place of a field with InvalidInput naming that field, or accepts it", () => {
    fc.assert(
      fc.property(fc.constantFrom("name", "kind", "model", "training", "constraints", "resources", "run"), fc.jsonValue(), (field, value) => {
        const spec: Record<string, unknown> = { name: "a", kind: "training", model: { parameters: "7B" }, training: { tokens: "1B" } }
        spec[field] = value
        const exit = Effect.runSyncExit(decodeWorkloadFile(JSON.stringify(spec), "fuzz"))
        if (exit._tag === "Success") return true
        const error = Cause.findErrorOption(exit.cause)
        return error._tag === "Some" && error.value.issues.every((issue) => issue.path !== undefined)
      }),
      { numRuns: 300, seed: 7 }
    )
  })
})
