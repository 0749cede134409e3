/**
 * Every malformed input we could think of, through the real `frugal` process: each must exit 2 with
 * a message that names the offending field (or the file), print nothing on stdout, and show no stack
 * trace. How long each takes is measured in bench/cli.bench.ts, not asserted here.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

/** The command that reads a workload file; `estimate` shares its reader and decoder (checked below). */
const command = "plan"

const dir = mkdtempSync(join(tmpdir(), "frugal-bad-inputs-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const valid = `name: ok
kind: training
model:
  parameters: 7B
training:
  tokens: 1B
constraints:
  deadlineHours: 72
`

const billionLaughs = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]",
  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]",
  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]",
  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]",
  "name: *i"
].join("\n")

/** Deterministic bytes that are not text: NULs, invalid UTF-8, control codes. */
const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))

interface Case {
  readonly title: string
  readonly content: string | Buffer
  /** Text the error must contain: the field path and, where it helps, what was expected. */
  readonly mentions: ReadonlyArray<string>
}

const cases: ReadonlyArray<Case> = [
  // Wrong types
  { title: "a number where the name belongs", content: valid.replace("name: ok", "name: 123"), mentions: ["name"] },
  { title: "parameters that are a word", content: valid.replace("parameters: 7B", "parameters: seven"), mentions: ["model.parameters", "seven"] },
  { title: "tokens given as a list", content: valid.replace("tokens: 1B", "tokens: [1, 2]"), mentions: ["training.tokens"] },
  { title: "interruptible as a string", content: `${valid}  interruptible: "yes"\n`, mentions: ["constraints.interruptible"] },
  { title: "deadline as a string", content: valid.replace("deadlineHours: 72", "deadlineHours: soon"), mentions: ["constraints.deadlineHours"] },
  { title: "model as a scalar", content: valid.replace("model:\n  parameters: 7B", "model: llama"), mentions: ["model"] },
  // Unknown enumeration values
  { title: "an unknown kind", content: valid.replace("kind: training", "kind: finetune"), mentions: ["kind"] },
  { title: "an unknown precision", content: valid.replace("parameters: 7B", "parameters: 7B\n  precision: fp64"), mentions: ["model.precision", "fp64"] },
  { title: "an unknown optimizer", content: valid.replace("parameters: 7B", "parameters: 7B\n  optimizer: lion"), mentions: ["model.optimizer", "lion"] },
  { title: "an unknown sharding", content: valid.replace("parameters: 7B", "parameters: 7B\n  sharding: zero4"), mentions: ["model.sharding", "zero4"] },
  { title: "an unknown accelerator", content: `${valid}resources:\n  accelerators: [H1000]\n`, mentions: ["resources.accelerators", "H1000"] },
  { title: "an unknown purchase option", content: `${valid}resources:\n  purchaseOptions: [lease]\n`, mentions: ["resources.purchaseOptions", "lease"] },
  { title: "a region that is not one", content: valid.replace("deadlineHours: 72", "deadlineHours: 72\n  regions: [mars-1]"), mentions: ["constraints.regions", "mars-1"] },
  // Negative and absurd numbers
  { title: "negative parameters", content: valid.replace("parameters: 7B", "parameters: -7"), mentions: ["model.parameters"] },
  { title: "zero tokens", content: valid.replace("tokens: 1B", "tokens: 0"), mentions: ["training.tokens"] },
  { title: "a negative deadline", content: valid.replace("deadlineHours: 72", "deadlineHours: -1"), mentions: ["constraints.deadlineHours"] },
  { title: "an absurd deadline", content: valid.replace("deadlineHours: 72", "deadlineHours: 1e12"), mentions: ["constraints.deadlineHours"] },
  { title: "a fractional micro-batch", content: valid.replace("tokens: 1B", "tokens: 1B\n  microBatchSize: 1.5"), mentions: ["training.microBatchSize"] },
  { title: "a NaN budget", content: valid.replace("deadlineHours: 72", "deadlineHours: 72\n  budgetUsd: .nan"), mentions: ["constraints.budgetUsd"] },
  { title: "an infinite budget", content: valid.replace("deadlineHours: 72", "deadlineHours: 72\n  budgetUsd: .inf"), mentions: ["constraints.budgetUsd"] },
  { title: "100 quadrillion parameters", content: valid.replace("parameters: 7B", "parameters: 100000T"), mentions: ["model.parameters"] },
  {
    title: "more hours per month than a month has",
    content: "name: serve\nkind: inference\nmodel:\n  parameters: 8B\ninference:\n  tokensPerSecond: 100\n  hoursPerMonth: 800\n",
    mentions: ["inference.hoursPerMonth"]
  },
  // Services (kind: inference with a service: section)
  {
    title: "a service whose min is above its max",
    content: "name: s\nkind: inference\nmodel: { parameters: 8B }\ninference: { tokensPerSecond: 100 }\nservice:\n  replicas: { min: 5, max: 2 }\n  target: { requestsInFlightPerReplica: 8 }\n",
    mentions: ["service.replicas.min", "at most replicas.max (2)"]
  },
  {
    title: "a service with a target of 0",
    content: "name: s\nkind: inference\nmodel: { parameters: 8B }\ninference: { tokensPerSecond: 100 }\nservice:\n  replicas: { min: 1, max: 2 }\n  target: { requestsInFlightPerReplica: 0 }\n",
    mentions: ["service.target.requestsInFlightPerReplica", "greater than 0"]
  },
  {
    title: "a service without any target",
    content: "name: s\nkind: inference\nmodel: { parameters: 8B }\ninference: { tokensPerSecond: 100 }\nservice:\n  replicas: { min: 1, max: 2 }\n  target: {}\n",
    mentions: ["service.target"]
  },
  { title: "a service on a training workload", content: `${valid}service: { replicas: { min: 1, max: 2 }, target: { queueDepthPerReplica: 1 } }\n`, mentions: ["service"] },
  // Fine-tuning methods (LoRA / QLoRA)
  { title: "an unknown fine-tuning method", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: prefix"), mentions: ["model.finetune", "prefix"] },
  { title: "a LoRA rank of 0", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  loraRank: 0"), mentions: ["model.loraRank", "at least 1"] },
  { title: "a fractional LoRA rank", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  loraRank: 8.5"), mentions: ["model.loraRank"] },
  { title: "a LoRA rank on a full fine-tune", content: valid.replace("parameters: 7B", "parameters: 7B\n  loraRank: 16"), mentions: ["model.loraRank", "finetune: lora or qlora"] },
  { title: "QLoRA in fp32", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: qlora\n  precision: fp32"), mentions: ["model.precision", "bf16 or fp16", "fp32"] },
  { title: "LoRA on an fp8 base", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  precision: fp8"), mentions: ["model.precision", "fp8"] },
  { title: "an unknown LoRA target", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  loraTargets: [q, mlp]"), mentions: ["model.loraTargets[1]", "mlp"] },
  { title: "both LoRA targets and a trainable fraction", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  loraTargets: [q, v]\n  trainableFraction: 0.01"), mentions: ["model.trainableFraction", "not both"] },
  { title: "a trainable fraction above 1", content: valid.replace("parameters: 7B", "parameters: 7B\n  finetune: lora\n  trainableFraction: 2"), mentions: ["model.trainableFraction"] },
  {
    title: "a fine-tuning method on an inference workload",
    content: "name: serve\nkind: inference\nmodel:\n  parameters: 8B\n  finetune: lora\ninference:\n  tokensPerSecond: 100\n",
    mentions: ["model.finetune"]
  },
  // Missing fields
  { title: "no name", content: valid.replace("name: ok\n", ""), mentions: ["name", "missing"] },
  { title: "no kind", content: valid.replace("kind: training\n", ""), mentions: ["kind"] },
  { title: "training without a training section", content: "name: t\nkind: training\nmodel:\n  parameters: 7B\n", mentions: ["training"] },
  { title: "inference without tokensPerSecond", content: "name: s\nkind: inference\nmodel:\n  parameters: 8B\ninference:\n  hoursPerMonth: 730\n", mentions: ["inference.tokensPerSecond"] },
  { title: "batch without gpuHours", content: "name: b\nkind: batch\nbatch:\n  referenceGpu: T4\n", mentions: ["batch.gpuHours"] },
  // Unknown keys (typos must not be silently ignored)
  { title: "a misspelt section", content: valid.replace("model:", "modle:"), mentions: ["modle"] },
  { title: "a misspelt constraint", content: valid.replace("deadlineHours: 72", "deadline: 72"), mentions: ["constraints.deadline"] },
  // Documents that are not workloads
  { title: "an empty file", content: "", mentions: ["empty"] },
  { title: "only whitespace and comments", content: "  \n# nothing here\n\n", mentions: ["(document)"] },
  { title: "a YAML alias bomb", content: billionLaughs, mentions: ["alias"] },
  { title: "binary garbage", content: garbage, mentions: ["binary"] },
  { title: "Latin-1 text that is not UTF-8", content: Buffer.from("name: caf\xe9\nkind: training\n", "latin1"), mentions: ["(document)"] },
  { title: "a YAML syntax error", content: "name: [unclosed\nkind: training\n", mentions: ["YAML"] },
  { title: "duplicate keys", content: `${valid}name: again\n`, mentions: ["duplicate"] },
  { title: "JSON with a trailing comma and a missing section", content: "{\"name\": \"x\", \"kind\": \"batch\",}", mentions: ["batch", "missing"] },
  { title: "a top-level list", content: "- name: a\n- name: b\n", mentions: ["(document)", "a list"] },
  { title: "a top-level number", content: "42\n", mentions: ["(document)"] },
  { title: "deeply nested brackets", content: `${"[".repeat(20_000)}${"]".repeat(20_000)}`, mentions: ["(document)"] },
  // Fleets
  { title: "an empty fleet", content: "workloads: []\n", mentions: ["workloads"] },
  {
    title: "a fleet with one bad workload",
    content: `workloads:\n  - name: a\n    kind: batch\n    batch: { gpuHours: 5, referenceGpu: T4 }\n  - name: b\n    kind: batch\n    batch: { gpuHours: -5, referenceGpu: T4 }\n`,
    mentions: ["workloads[1].batch.gpuHours"]
  },
  {
    title: "a fleet with a repeated name",
    content: `workloads:\n  - name: a\n    kind: batch\n    batch: { gpuHours: 5, referenceGpu: T4 }\n  - name: a\n    kind: batch\n    batch: { gpuHours: 6, referenceGpu: T4 }\n`,
    mentions: ["workloads[1].name"]
  }
]

const expectCleanInvalidInput = (run: { code: number | null; stdout: string; stderr: string }, mentions: ReadonlyArray<string>) => {
  expect(run.stderr).not.toMatch(STACK_FRAME)
  expect(run.stdout).toBe("")
  for (const mention of mentions) expect(run.stderr).toContain(mention)
  expect(run.code).toBe(2)
}

describe.concurrent("frugal plan rejects a malformed workload file with exit 2, naming the field", () => {
  cases.forEach((testCase, index) => {
    it(testCase.title, async () => {
      const file = join(dir, `case-${index}.yaml`)
      writeFileSync(file, testCase.content)
      const run = await runFrugal([command, file])
      expectCleanInvalidInput(run, [file, ...testCase.mentions])
    })
  })

  it("reports every problem of a file together, one per line", async () => {
    const file = join(dir, "several.yaml")
    writeFileSync(file, "name: Bad_Name\nkind: training\nmodel:\n  parameters: lots\n  precision: fp64\ntraining:\n  tokens: -1\n")
    const run = await runFrugal([command, file])
    expectCleanInvalidInput(run, ["name", "model.parameters", "model.precision", "training.tokens"])
    const issueLines = run.stderr.split("\n").filter((line) => line.startsWith("  "))
    expect(issueLines.length).toBeGreaterThanOrEqual(4)
  })
})

describe.concurrent("frugal rejects a FILE argument that is not a workload file with exit 2", () => {
  it("a missing file", async () => {
    const run = await runFrugal([command, join(dir, "does-not-exist.yaml")])
    expectCleanInvalidInput(run, ["does-not-exist.yaml", "no such file"])
  })

  it("a directory", async () => {
    const sub = join(dir, "a-directory")
    mkdirSync(sub, { recursive: true })
    const run = await runFrugal([command, sub])
    expectCleanInvalidInput(run, ["a-directory", "directory"])
  })

  it("a huge file, refused before it is read", async () => {
    const file = join(dir, "huge.yaml")
    writeFileSync(file, "")
    truncateSync(file, 200 * 1024 * 1024) // sparse: costs no disk
    const run = await runFrugal([command, file])
    expectCleanInvalidInput(run, ["huge.yaml", "MiB"])
  })

  it("a device that never ends", async () => {
    const run = await runFrugal([command, "/dev/zero"])
    expectCleanInvalidInput(run, ["/dev/zero", "regular"])
  })

  it("malformed standard input", async () => {
    const run = await runFrugal([command, "-"], { stdin: "name: x\nkind: nope\n" })
    expectCleanInvalidInput(run, ["stdin", "kind"])
  })

  it("estimate rejects the same file the same way", async () => {
    const file = join(dir, "estimate-bad.yaml")
    writeFileSync(file, valid.replace("parameters: 7B", "parameters: -1"))
    const run = await runFrugal(["estimate", file])
    expectCleanInvalidInput(run, ["model.parameters"])
  })
})

describe.concurrent("frugal rejects bad flags and arguments with exit 2", () => {
  const file = join(dir, "valid.yaml")
  writeFileSync(file, valid)
  let services = 0
  /** An inference workload with a valid service section plus `extra` lines in it (or none at all). */
  const serviceFile = (extra: string, withService = true): string => {
    const path = join(dir, `service-${services++}.yaml`)
    writeFileSync(path, "name: s\nkind: inference\nmodel: { parameters: 8B }\ninference: { tokensPerSecond: 100 }\n" +
      (withService ? `service:\n  replicas: { min: 1, max: 4 }\n  target: { requestsInFlightPerReplica: 2 }\n${extra}` : ""))
    return path
  }

  const flagCases: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["--top 0", ["plan", file, "--top", "0"], ["--top"]],
    ["--top that is not a number", ["plan", file, "--top", "abc"], ["top"]],
    ["--top negative", ["plan", file, "--top", "-3"], ["--top"]],
    ["an unknown flag", ["plan", file, "--fast"], ["--fast"]],
    ["plan without a file", ["plan"], ["Missing required argument: file", "Run `frugal plan --help`"]],
    ["an unknown command", ["pln", file], ["pln"]],
    ["a catalog file that does not exist", ["plan", file, "--catalog", join(dir, "no-such-catalog.json")], ["--catalog"]],
    ["gpus with an unknown GPU", ["gpus", "--gpu", "H1000"], ["--gpu", "H1000"]],
    ["gpus with an unknown region", ["gpus", "--region", "mars-1"], ["--region", "mars-1"]],
    // Absurd numbers are bounded where the flag is parsed, not carried into costs and timers.
    ["run --price-per-hour 1e308", ["run", file, "--dry-run", "--price-per-hour", "1e308"], ["--price-per-hour: expected USD per hour from 0 to 10,000, got 1e+308"]],
    ["run --price-per-hour below zero", ["run", file, "--dry-run", "--price-per-hour", "-1"], ["--price-per-hour: expected USD per hour from 0 to 10,000, got -1"]],
    ["drill --grace-seconds 1e12", ["drill", file, "--grace-seconds", "1e12"], ["--grace-seconds: expected seconds from 0 to 3,600"]],
    [
      "simulate --on-demand-price 1e308",
      ["simulate", "--trace", file, "--compute-hours", "1", "--deadline-hours", "2", "--restart-hours", "0", "--on-demand-price", "1e308"],
      ["--on-demand-price: expected USD per hour from 0 to 10,000"]
    ],
    ["prices refresh --concurrency 100000", ["prices", "refresh", "--concurrency", "100000"], ["--concurrency: expected regions at once from 1 to 64, got 100000"]],
    ["prices refresh --spot-history-hours 100000", ["prices", "refresh", "--spot-history-hours", "100000"], ["--spot-history-hours: expected hours from 1 to 2,160"]],
    ["a service needing more zones than any region offers", ["service", "plan", serviceFile("  zones: { min: 9 }\n")], ["service.zones.min", "at most"]],
    ["service plan of a workload without a service section", ["service", "plan", serviceFile("", false)], ["service"]],
    ["service simulate with an unknown policy", ["service", "simulate", serviceFile(""), "--requests", "x.csv", "--spot-traces", "x", "--policies", "frugal,magic"], ["--policies", "magic"]],
    ["service simulate with a rate scale of 0", ["service", "simulate", serviceFile(""), "--requests", "x.csv", "--spot-traces", "x", "--rate-scale", "0"], ["--rate-scale"]],
    ["service simulate with a request trace that is not one", ["service", "simulate", serviceFile(""), "--requests", serviceFile(""), "--spot-traces", "x"], ["line 1", "TIMESTAMP,ContextTokens,GeneratedTokens"]],
    ["service apply with an unknown engine", ["service", "apply", serviceFile(""), "--engine", "ecs"], ["--engine"]]
  ]
  for (const [title, args, mentions] of flagCases) {
    it(title, async () => {
      const run = await runFrugal(args)
      expect(run.stderr).not.toMatch(STACK_FRAME)
      expect(run.stdout).toBe("")
      for (const mention of mentions) expect(run.stderr).toContain(mention)
      expect(run.code).toBe(2)
    })
  }
})
