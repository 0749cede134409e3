/**
 * The workload spec v1: what a user asks Frugal to place, as an Effect Schema. `kind` decides which section is
 * required (`training` needs `model` + `training`, `inference` needs `model` + `inference`, `batch` needs `batch`).
 * Every field carries an `expected` annotation in plain words, used in error messages and in the JSON Schema.
 * Decoding a file (YAML/JSON text → workloads) lives in `WorkloadFile.ts`.
 */
import { Effect, Schema, type SchemaAST, SchemaIssue, SchemaTransformation } from "effect"
import { ACCELERATOR_NAMES, type AcceleratorName, resolveAcceleratorNames } from "./AcceleratorName.ts"
import { PURCHASE_OPTIONS } from "./Offer.ts"

export const expecting = <S extends Schema.Top>(schema: S, expected: string, description?: string): S["Rebuild"] =>
  schema.annotate({ expected, description: description ?? expected })

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

const SUFFIX: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 }
const QUANTITY = /^([0-9][0-9_]*(?:\.[0-9]+)?|\.[0-9]+)(?:e([+-]?[0-9]+))?\s*([kmbgt])?$/i

/** Parses `7B`, `1.5T`, `300m`, `7e9`, `7_000_000_000`; undefined when it is none of these. */
export const parseQuantity = (text: string): number | undefined => {
  const match = QUANTITY.exec(text.trim())
  if (match === null) return undefined
  const [, mantissa = "", exponent, suffix] = match
  const value = Number(mantissa.replaceAll("_", "")) * 10 ** Number(exponent ?? 0) *
    (suffix === undefined ? 1 : SUFFIX[suffix.toLowerCase()] ?? Number.NaN)
  return Number.isFinite(value) ? value : undefined
}

/**
 * A count such as parameters or tokens: a number, or a string with a K/M/B/T suffix. Bounded on both sides so that
 * absurd values (a 700T-parameter model, zero or negative tokens) are rejected with the bounds named.
 */
const Quantity = (what: string, max: number, maxWords: string) => {
  const expected = `a number of ${what} like 7B, 1.5T or 7e9 (greater than 0, at most ${maxWords})`
  return expecting(
    expecting(Schema.Union([Schema.Finite, Schema.String]), expected).pipe(
      Schema.decodeTo(
        Schema.Finite,
        SchemaTransformation.transformEffect({
          // Bounds are checked here rather than by a filter so that the message shows what the user wrote ("700T").
          decode: (input: number | string, options) => {
            const parsed = typeof input === "number" ? input : parseQuantity(input)
            return parsed === undefined || !(parsed > 0 && parsed <= max)
              ? Effect.fail(new SchemaIssue.InvalidValue({ expected }, input, options))
              : Effect.succeed(parsed)
          },
          encode: (n: number) => Effect.succeed(n)
        })
      )
    ),
    expected
  )
}

/** A finite number in (min, max] or [min, max]; the bounds are named in the message. */
export const Bounded = (options: {
  readonly min: number
  readonly max: number
  readonly minExclusive?: boolean
  readonly integer?: boolean
  readonly unit?: string
}) => {
  const { min, max, minExclusive = false, integer = false } = options
  const unit = options.unit === undefined ? "" : ` ${options.unit}`
  const kind = integer ? "a whole number" : "a number"
  const lower = minExclusive ? `greater than ${min}` : `at least ${min}`
  const expected = `${kind}${unit === "" ? "" : ` of${unit}`} ${lower} and at most ${max.toLocaleString("en-US")}`
  // Built-in checks, so that the generated JSON Schema carries minimum/maximum/integer for editors.
  const lowerCheck = minExclusive ? Schema.isGreaterThan(min) : Schema.isGreaterThanOrEqualTo(min)
  const schema = integer
    ? Schema.Finite.check(lowerCheck, Schema.isLessThanOrEqualTo(max), Schema.isInt())
    : Schema.Finite.check(lowerCheck, Schema.isLessThanOrEqualTo(max))
  return expecting(schema, expected)
}

const oneOf = <const L extends ReadonlyArray<string>>(literals: L, what: string) =>
  expecting(Schema.Literals(literals), `${what}: one of ${literals.join(", ")}`)

/** A key that may be left out, decoded to `value` then; the JSON Schema shows the default to editors. */
export const withDefault = <S extends Schema.Top>(schema: S, value: S["Rebuild"]["Encoded"]) =>
  Schema.withDecodingDefaultKey<S["Rebuild"]>(Effect.succeed(value))(schema.annotate({ default: value }))

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]{1,2}$/
export const Region = expecting(Schema.String.check(Schema.isPattern(REGION)), "an AWS region code like us-east-1")

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
const nameExpected = "a name of lowercase letters, digits and '-' (at most 63 characters, not starting or ending with '-')"
export const WorkloadName = expecting(Schema.String.check(Schema.isPattern(NAME)), nameExpected)

const acceleratorExpected = `an accelerator name (any case): ${ACCELERATOR_NAMES.join(", ")}`

/** One accelerator name, case-insensitive, decoded to its canonical spelling. */
export const Accelerator = expecting(
  expecting(Schema.String, acceleratorExpected).pipe(
    Schema.decodeTo(
      expecting(Schema.Literals(ACCELERATOR_NAMES), acceleratorExpected),
      SchemaTransformation.transformEffect({
        decode: (input: string, options) => {
          const names = resolveAcceleratorNames(input)
          const [only] = names
          return names.length === 1 && only !== undefined
            ? Effect.succeed(only)
            : Effect.fail(new SchemaIssue.InvalidValue({ expected: acceleratorExpected }, input, options))
        },
        encode: (name: AcceleratorName) => Effect.succeed(name)
      })
    )
  ),
  acceleratorExpected
)

/** An entry of `resources.accelerators`: a name, optionally pinned to a GPU count (`A100-80GB:8`). */
export interface AcceleratorRequest {
  readonly accelerator: AcceleratorName
  /** Total accelerators the user pins; null lets the planner choose. */
  readonly count: number | null
}
const requestExpected = `accelerator names, each optionally with a GPU count like H100:8 (${ACCELERATOR_NAMES.join(", ")}; A100 means both A100 sizes)`
const AcceleratorRequestSchema: Schema.Codec<AcceleratorRequest> = Schema.Struct({
  accelerator: Schema.Literals(ACCELERATOR_NAMES),
  count: Schema.NullOr(Schema.Int)
})
const parseRequests = (entry: string): ReadonlyArray<AcceleratorRequest> | undefined => {
  const [name = "", count, ...rest] = entry.split(":")
  if (rest.length > 0) return undefined
  const names = resolveAcceleratorNames(name)
  if (names.length === 0) return undefined
  if (count === undefined) return names.map((accelerator) => ({ accelerator, count: null }))
  const n = Number(count.trim())
  return Number.isInteger(n) && n >= 1 && n <= 1024 && /^\s*[0-9]+\s*$/.test(count)
    ? names.map((accelerator) => ({ accelerator, count: n }))
    : undefined
}
const AcceleratorRequests = expecting(
  expecting(Schema.Union([Schema.String, Schema.Array(Schema.String)]), requestExpected).pipe(
    Schema.decodeTo(
      Schema.Array(AcceleratorRequestSchema),
      SchemaTransformation.transformEffect({
        decode: (input: string | ReadonlyArray<string>, options) => {
          const entries = typeof input === "string" ? [input] : input
          const out: Array<AcceleratorRequest> = []
          const bad: Array<SchemaIssue.Issue> = []
          entries.forEach((entry, index) => {
            const parsed = parseRequests(entry)
            if (parsed === undefined) {
              const issue = new SchemaIssue.InvalidValue({ expected: requestExpected }, entry, options)
              bad.push(typeof input === "string" ? issue : new SchemaIssue.Pointer([index], issue))
            } else {
              for (const request of parsed) {
                if (!out.some((o) => o.accelerator === request.accelerator)) out.push(request)
              }
            }
          })
          const [first, ...others] = bad
          if (first === undefined) return Effect.succeed(out)
          return Effect.fail(
            others.length === 0 ? first : new SchemaIssue.Composite(Schema.String.ast, [first, ...others], input, options)
          )
        },
        encode: (requests: ReadonlyArray<AcceleratorRequest>) =>
          Effect.succeed(requests.map((r) => r.count === null ? r.accelerator : `${r.accelerator}:${r.count}`))
      })
    )
  ),
  requestExpected
)

// ---------------------------------------------------------------------------------------------------------------
// Enumerations

export const PRECISIONS = ["fp32", "tf32", "bf16", "fp16", "fp8"] as const
export const Precision = oneOf(PRECISIONS, "a numeric precision")
export type Precision = typeof Precision.Type

export const OPTIMIZERS = ["adamw", "sgd", "adafactor"] as const
export const Optimizer = oneOf(OPTIMIZERS, "an optimizer")
export type Optimizer = typeof Optimizer.Type

export const SHARDINGS = ["none", "zero1", "zero2", "fsdp"] as const
export const Sharding = oneOf(SHARDINGS, "a sharding strategy")
export type Sharding = typeof Sharding.Type

export const WORKLOAD_KINDS = ["training", "inference", "batch"] as const

export const FINETUNE_METHODS = ["full", "lora", "qlora"] as const
export const FineTune = oneOf(FINETUNE_METHODS, "a fine-tuning method")
export type FineTune = typeof FineTune.Type

/** Linear layers a LoRA adapter can sit on (LLaMA's q/k/v/o_proj and gate/up/down_proj). */
export const LORA_TARGETS = ["q", "k", "v", "o", "gate", "up", "down"] as const
export type LoraTarget = typeof LORA_TARGETS[number]

const PurchaseOptionName = oneOf(PURCHASE_OPTIONS, "a purchase option")

// ---------------------------------------------------------------------------------------------------------------
// Sections

const Architecture = {
  layers: Schema.optionalKey(Bounded({ min: 1, max: 1000, integer: true, unit: "layers" })),
  hiddenSize: Schema.optionalKey(Bounded({ min: 1, max: 262_144, integer: true })),
  heads: Schema.optionalKey(Bounded({ min: 1, max: 4096, integer: true, unit: "attention heads" })),
  /** Key/value heads under grouped-query attention (LLaMA 3 8B: 8 of 32); absent: as many as `heads`. */
  kvHeads: Schema.optionalKey(Bounded({ min: 1, max: 4096, integer: true, unit: "key/value heads" })),
  vocabSize: Schema.optionalKey(Bounded({ min: 1, max: 10_000_000, integer: true, unit: "tokens" }))
}

/** A cross-field rule's complaint about one field: its path, what was expected and the value it has (not the section's). */
const fieldIssue = (key: string, expected: string, actual: unknown, options: SchemaAST.ParseOptions = { reportInput: true }): Schema.FilterIssue => ({
  path: [key],
  issue: new SchemaIssue.InvalidValue({ expected }, actual, options)
})

const headsDivideHidden = Schema.makeFilter(
  (model: { readonly hiddenSize?: number; readonly heads?: number; readonly kvHeads?: number }) =>
    model.hiddenSize !== undefined && model.heads !== undefined && model.hiddenSize % model.heads !== 0
      ? fieldIssue("heads", `a divisor of hiddenSize ${model.hiddenSize}`, model.heads)
      : model.kvHeads !== undefined && model.heads !== undefined && model.heads % model.kvHeads !== 0
      ? fieldIssue("kvHeads", `a divisor of heads ${model.heads}`, model.kvHeads)
      : undefined,
  { expected: "heads dividing hiddenSize, kvHeads dividing heads" }
)

const Parameters = Quantity("parameters", 1e14, "100T")

const loraOnly = "only with finetune: lora or qlora"

/**
 * LoRA fields make sense together: they need `finetune: lora | qlora`, adapters are placed by target modules or by a
 * trainable fraction (not both), and the frozen base's format limits the precision: QLoRA dequantizes its 4-bit
 * base to a 16-bit compute dtype (bf16 or fp16), and a LoRA base is held in the compute precision (not fp8).
 */
const fineTuneFieldsAgree = Schema.makeFilter(
  (model: {
    readonly finetune: FineTune
    readonly precision: Precision
    readonly loraRank?: number
    readonly loraTargets?: ReadonlyArray<LoraTarget>
    readonly trainableFraction?: number
  }) => {
    const issues: Array<Schema.FilterIssue> = []
    if (model.finetune === "full") {
      for (const key of ["loraRank", "loraTargets", "trainableFraction"] as const) {
        if (model[key] !== undefined) issues.push(fieldIssue(key, `${loraOnly} (finetune is full)`, model[key]))
      }
      return issues
    }
    if (model.loraTargets !== undefined && model.trainableFraction !== undefined) {
      issues.push(fieldIssue("trainableFraction", "either loraTargets or trainableFraction, not both", model.trainableFraction))
    }
    if (model.finetune === "qlora" && model.precision !== "bf16" && model.precision !== "fp16") {
      issues.push(fieldIssue("precision", "bf16 or fp16 with finetune: qlora, whose 4-bit base is dequantized to a 16-bit compute dtype", model.precision))
    }
    if (model.finetune === "lora" && model.precision === "fp8") {
      issues.push(fieldIssue("precision", "fp32, tf32, bf16 or fp16 with finetune: lora, whose frozen base is kept in the compute precision", model.precision))
    }
    return issues
  },
  { expected: "LoRA fields only with finetune: lora or qlora, and a precision the method supports" }
)

export const TrainingModel = Schema.Struct({
  parameters: Parameters,
  precision: withDefault(Precision, "bf16"),
  optimizer: withDefault(Optimizer, "adamw"),
  /** Absent: the planner picks none on one GPU and fsdp when one GPU is not enough. */
  sharding: Schema.optionalKey(Sharding),
  /** full: every weight trained; lora: a frozen 16-bit base plus adapters (Hu et al. 2021); qlora: a frozen 4-bit NF4 base (Dettmers et al. 2023). */
  finetune: withDefault(FineTune, "full"),
  /** LoRA adapter rank r (lora/qlora; default 16). */
  loraRank: Schema.optionalKey(Bounded({ min: 1, max: 65_536, integer: true, unit: "adapter rank" })),
  /** Linear layers that get adapters (lora/qlora; default all of them, as QLoRA recommends). */
  loraTargets: Schema.optionalKey(
    expecting(
      Schema.NonEmptyArray(oneOf(LORA_TARGETS, "a linear layer")),
      `a list of linear layers to adapt (${LORA_TARGETS.join(", ")})`
    )
  ),
  /** Share of the parameters that are trainable, instead of loraTargets (lora/qlora). */
  trainableFraction: Schema.optionalKey(Bounded({ min: 0, minExclusive: true, max: 1, unit: "the parameters (a fraction)" })),
  ...Architecture
}).check(headsDivideHidden, fineTuneFieldsAgree)
export type TrainingModel = typeof TrainingModel.Type

export const InferenceModel = Schema.Struct({
  parameters: Parameters,
  precision: withDefault(Precision, "bf16"),
  ...Architecture
}).check(headsDivideHidden)
export type InferenceModel = typeof InferenceModel.Type

export const TrainingSection = Schema.Struct({
  tokens: Quantity("tokens", 1e15, "1000T"),
  sequenceLength: withDefault(Bounded({ min: 1, max: 10_000_000, integer: true, unit: "tokens" }), 4096),
  microBatchSize: withDefault(Bounded({ min: 1, max: 65_536, integer: true, unit: "sequences" }), 1),
  activationCheckpointing: withDefault(expecting(Schema.Boolean, "true or false"), false),
  /** Whether attention is fused (FlashAttention / SDPA); it drops the s² attention-score activations. */
  fusedAttention: withDefault(expecting(Schema.Boolean, "true or false"), true)
})
export type TrainingSection = typeof TrainingSection.Type

export const InferenceSection = Schema.Struct({
  /** Sustained generated tokens per second across all replicas. */
  tokensPerSecond: Bounded({ min: 0, minExclusive: true, max: 1e9, unit: "tokens per second" }),
  hoursPerMonth: withDefault(Bounded({ min: 0, minExclusive: true, max: 744, unit: "hours" }), 730),
  /** Context length (prompt + generated) each request may hold in the KV cache. */
  sequenceLength: withDefault(Bounded({ min: 1, max: 10_000_000, integer: true, unit: "tokens" }), 4096),
  /** Requests served at once; absent: as many as the throughput target needs (see Memory.ts). */
  concurrentRequests: Schema.optionalKey(Bounded({ min: 1, max: 1_000_000, integer: true, unit: "requests" }))
})
export type InferenceSection = typeof InferenceSection.Type

// ---------------------------------------------------------------------------------------------------------------
// Service: an inference workload that scales itself (packages/serving; docs/serving.md)

const ReplicaCount = (what: string) => Bounded({ min: 0, max: 10_000, integer: true, unit: what })
const PerReplicaTarget = (unit: string) => Bounded({ min: 0, minExclusive: true, max: 1_000_000, unit })

export const ServiceReplicas = Schema.Struct({
  min: ReplicaCount("replicas"),
  max: Bounded({ min: 1, max: 10_000, integer: true, unit: "replicas" })
}).check(
  Schema.makeFilter(
    (r: { readonly min: number; readonly max: number }, _ast, options) =>
      r.min > r.max ? fieldIssue("min", `at most replicas.max (${r.max})`, r.min, options) : undefined,
    { expected: "replicas.min at most replicas.max" }
  )
)

/** What one replica should carry; several signals at once are allowed and the largest replica count wins. */
export const ServiceTarget = Schema.Struct({
  requestsInFlightPerReplica: Schema.optionalKey(PerReplicaTarget("requests in flight")),
  requestsPerSecondPerReplica: Schema.optionalKey(PerReplicaTarget("requests per second")),
  queueDepthPerReplica: Schema.optionalKey(PerReplicaTarget("queued requests"))
}).check(
  Schema.makeFilter(
    (t: { readonly requestsInFlightPerReplica?: number; readonly requestsPerSecondPerReplica?: number; readonly queueDepthPerReplica?: number }) =>
      t.requestsInFlightPerReplica === undefined && t.requestsPerSecondPerReplica === undefined && t.queueDepthPerReplica === undefined
        ? "at least one of requestsInFlightPerReplica, requestsPerSecondPerReplica, queueDepthPerReplica"
        : undefined,
    { expected: "at least one of requestsInFlightPerReplica, requestsPerSecondPerReplica, queueDepthPerReplica" }
  )
)
export type ServiceTarget = typeof ServiceTarget.Type

const trueOrFalse = expecting(Schema.Boolean, "true or false")

export const ServiceSection = Schema.Struct({
  replicas: ServiceReplicas,
  target: ServiceTarget,
  /** Scale in only while the replicas' mean GPU utilisation stays below this share for `scaleInWindowMinutes`. */
  scaleInBelowGpuUtilization: withDefault(Bounded({ min: 0, max: 1, unit: "GPU utilisation" }), 0.3),
  scaleInWindowMinutes: withDefault(Bounded({ min: 1, max: 1440, integer: true, unit: "minutes" }), 15),
  scaleUpDelaySeconds: withDefault(Bounded({ min: 0, max: 3600, integer: true, unit: "seconds" }), 60),
  scaleDownDelaySeconds: withDefault(Bounded({ min: 0, max: 86_400, integer: true, unit: "seconds" }), 600),
  /** Instance boot and model load: the time from a launch to a replica that serves. */
  coldStartSeconds: withDefault(Bounded({ min: 0, max: 7200, integer: true, unit: "seconds" }), 300),
  zones: withDefault(Schema.Struct({ min: Bounded({ min: 1, max: 32, integer: true, unit: "availability zones" }) }), { min: 2 }),
  /** Replicas that are on-demand whatever happens to spot (the first ones of the service). */
  onDemandBase: withDefault(ReplicaCount("replicas"), 1),
  spot: withDefault(trueOrFalse, false)
}).check(
  Schema.makeFilter(
    (s: { readonly replicas: { readonly max: number }; readonly onDemandBase: number }, _ast, options) =>
      s.onDemandBase > s.replicas.max
        ? fieldIssue("onDemandBase", `at most replicas.max (${s.replicas.max})`, s.onDemandBase, options)
        : undefined,
    { expected: "onDemandBase at most replicas.max" }
  )
)
export type ServiceSection = typeof ServiceSection.Type

export const BatchSection = Schema.Struct({
  gpuHours: Bounded({ min: 0, minExclusive: true, max: 10_000_000, unit: "GPU-hours" }),
  referenceGpu: Accelerator,
  minGpuMemoryGiB: Schema.optionalKey(Bounded({ min: 0, minExclusive: true, max: 4096, unit: "GiB" }))
})
export type BatchSection = typeof BatchSection.Type

export const Resources = Schema.Struct({
  accelerators: Schema.optionalKey(AcceleratorRequests),
  purchaseOptions: Schema.optionalKey(
    expecting(
      Schema.NonEmptyArray(PurchaseOptionName),
      `a list of purchase options (${PURCHASE_OPTIONS.join(", ")})`
    )
  )
})
export type Resources = typeof Resources.Type

const Constraints = (interruptibleByDefault: boolean) =>
  Schema.Struct({
    deadlineHours: Schema.optionalKey(
      Bounded({ min: 0, minExclusive: true, max: 87_600, unit: "hours (10 years at most)" })
    ),
    budgetUsd: Schema.optionalKey(Bounded({ min: 0, minExclusive: true, max: 1e9, unit: "US dollars" })),
    regions: Schema.optionalKey(expecting(Schema.NonEmptyArray(Region), "a list of AWS region codes like us-east-1")),
    interruptible: withDefault(expecting(Schema.Boolean, "true or false"), interruptibleByDefault)
  })
const BatchConstraints = Constraints(true)
export type Constraints = typeof BatchConstraints.Type

export const DataLocation = Schema.Struct({
  region: Region,
  sizeGB: Bounded({ min: 0, max: 10_000_000, unit: "GB (decimal)" })
})
export type DataLocation = typeof DataLocation.Type

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/
export const NonEmptyString = expecting(Schema.NonEmptyString, "a non-empty string")
/**
 * Text that reaches a shell script, a batch script, user data or a manifest as a quoted word: anything but NUL, which
 * no shell word can hold (bash would cut the string there), and at most 64 KiB.
 */
const ArgText = expecting(
  Schema.NonEmptyString.check(Schema.makeFilter((text: string) => !text.includes("\u0000") && text.length <= 65_536)),
  "a non-empty string without NUL characters (at most 65,536 characters)"
)
const EnvValue = expecting(
  Schema.String.check(Schema.makeFilter((text: string) => !text.includes("\u0000") && text.length <= 65_536)),
  "a string value (quote numbers) without NUL characters, at most 65,536 characters"
)
/** A path: no control characters, which would split a line of a generated script (paths also reach directives). */
const PathText = expecting(
  Schema.NonEmptyString.check(Schema.makeFilter((text: string) => !/[\u0000-\u001f\u007f]/.test(text) && text.length <= 4096)),
  "a path without control characters (line breaks, tabs, NUL), at most 4,096 characters"
)

export const RunSection = Schema.Struct({
  command: Schema.optionalKey(
    expecting(Schema.NonEmptyArray(ArgText), "an argv list of strings like [python3, train.py] (never a shell string)")
  ),
  env: Schema.optionalKey(
    expecting(
      Schema.Record(
        expecting(Schema.String.check(Schema.isPattern(ENV_NAME)), "an environment variable name"),
        EnvValue
      ),
      "a mapping of environment variable names to string values"
    )
  ),
  workdir: Schema.optionalKey(PathText),
  checkpointDir: Schema.optionalKey(PathText),
  /** Processes per node under torchrun; absent: the placement's GPUs per node (1 without GPUs). */
  processesPerNode: Schema.optionalKey(Bounded({ min: 1, max: 1024, integer: true, unit: "processes per node" }))
})
export type RunSection = typeof RunSection.Type

// ---------------------------------------------------------------------------------------------------------------
// Workloads

const common = {
  name: WorkloadName,
  resources: Schema.optionalKey(Resources),
  data: Schema.optionalKey(DataLocation),
  run: Schema.optionalKey(RunSection)
}

export const TrainingWorkload = Schema.Struct({
  ...common,
  kind: Schema.Literal("training"),
  model: TrainingModel,
  training: TrainingSection,
  constraints: withDefault(Constraints(true), {})
}).annotate({ identifier: "TrainingWorkload", description: "A training job: model + training sections." })
export type TrainingWorkload = typeof TrainingWorkload.Type

export const InferenceWorkload = Schema.Struct({
  ...common,
  kind: Schema.Literal("inference"),
  model: InferenceModel,
  inference: InferenceSection,
  service: Schema.optionalKey(ServiceSection),
  constraints: withDefault(Constraints(false), {})
}).annotate({ identifier: "InferenceWorkload", description: "A serving workload: model + inference sections." })
export type InferenceWorkload = typeof InferenceWorkload.Type

export const BatchWorkload = Schema.Struct({
  ...common,
  kind: Schema.Literal("batch"),
  batch: BatchSection,
  constraints: withDefault(Constraints(true), {})
}).annotate({ identifier: "BatchWorkload", description: "A batch job measured in GPU-hours on a reference GPU." })
export type BatchWorkload = typeof BatchWorkload.Type

export const Workload = Schema.Union([TrainingWorkload, InferenceWorkload, BatchWorkload]).annotate({
  expected: `a workload with kind ${WORKLOAD_KINDS.join(", ")}`
})
export type Workload = typeof Workload.Type
export type WorkloadKind = Workload["kind"]

/** A fleet: several workloads planned together. Names must be unique. */
export const Fleet = Schema.Struct({
  workloads: expecting(Schema.NonEmptyArray(Workload), "a non-empty list of workloads")
}).check(
  Schema.makeFilter((fleet: { readonly workloads: ReadonlyArray<{ readonly name: string }> }) => {
    const seen = new Set<string>()
    const issues: Array<Schema.FilterIssue> = []
    fleet.workloads.forEach((w, i) => {
      if (seen.has(w.name)) issues.push({ path: ["workloads", i, "name"], issue: `a name unused by the other workloads (${w.name} repeats)` })
      seen.add(w.name)
    })
    return issues
  }, { expected: "unique workload names" })
)
export type Fleet = typeof Fleet.Type
