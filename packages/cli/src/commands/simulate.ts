/**
 * `frugal simulate --trace FILE|DIR --policy P,... --compute-hours C --deadline-hours R
 *  --restart-hours d [--on-demand-price P --spot-price S] [--zones multi] [--starts N --seed S] [--json]`:
 * replays spot availability traces (the skypilot-org/spot-traces JSON, or CSV
 * `timestamp,available[,price]`; a directory may also hold a `…prices.json` map) against the
 * spot policies, from N random start points per trace, and prints each policy's cost normalised to
 * on-demand-only, its deadline misses and its on-demand/spot hours (docs/spot-policy.md).
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { readdir, stat } from "node:fs/promises"
import { type InputIssue, InvalidInput } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"
import {
  decodeTraceFiles,
  onlinePolicyByName,
  type JobSpec,
  type PolicyOrOptimal,
  type PolicySummary,
  resolveOptimalMethod,
  runExperiment,
  type TraceText,
  zoneSetsOf
} from "@frugal/planner"
import { MAX_USD_PER_HOUR, within } from "../FlagBounds.ts"
import { renderTable } from "../Table.ts"

const POLICY_NAMES = ["on-demand", "greedy", "uniform-progress", "frugal", "optimal"]
/** p3.2xlarge in us-east-1, the instance of the paper's V100 traces, and its mean spot price there. */
const DEFAULT_ON_DEMAND_USD = 3.06
const DEFAULT_SPOT_USD = 0.9731

const trace = Flag.String("trace").pipe(
  Flag.withDescription("A trace file (spot-traces JSON or CSV timestamp,available[,price]) or a directory of them")
)
const policy = Flag.String("policy").pipe(
  Flag.withDescription(`Comma-separated policies: ${POLICY_NAMES.join(", ")}`),
  Flag.withDefault(POLICY_NAMES.join(","))
)
const computeHours = Flag.Finite("compute-hours").pipe(Flag.withDescription("C: hours of compute the job needs"))
const deadlineHours = Flag.Finite("deadline-hours").pipe(Flag.withDescription("R: hours from start to deadline"))
const restartHours = Flag.Finite("restart-hours").pipe(
  Flag.withDescription("d: changeover delay paid on every launch or move, in hours")
)
const onDemandPrice = Flag.Finite("on-demand-price").pipe(
  Flag.withDescription(`On-demand USD per hour (default ${DEFAULT_ON_DEMAND_USD})`),
  within("on-demand-price", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.withDefault(DEFAULT_ON_DEMAND_USD)
)
const spotPrice = Flag.Finite("spot-price").pipe(
  Flag.withDescription(`Spot USD per hour for every tick (default: the trace's prices, else ${DEFAULT_SPOT_USD})`),
  within("spot-price", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.optional
)
const zones = Flag.Literals("zones", ["single", "multi"]).pipe(
  Flag.withDescription("multi: policies may move between the zones of a directory (same instance type)"),
  Flag.withDefault("single" as const)
)
const starts = Flag.Int("starts").pipe(Flag.withDescription("Random start points per trace"), Flag.withDefault(300))
const seed = Flag.Int("seed").pipe(Flag.withDescription("Seed of the start points"), Flag.withDefault(1))
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))

const invalid = (flag: string, expected: string, actual: string) =>
  new InvalidInput({ source: flag, issues: [{ path: flag, expected, actual }] })

/** A trace file, or every `.json`/`.csv` in a directory, each through the shared bounded reader. */
export const readTraceTexts = (path: string): Effect.Effect<ReadonlyArray<TraceText>, InvalidInput> =>
  Effect.gen(function*() {
    const info = yield* Effect.tryPromise(() => stat(path)).pipe(
      Effect.mapError(() => invalid("--trace", "an existing trace file or directory", path))
    )
    const paths = info.isDirectory()
      ? (yield* Effect.tryPromise(() => readdir(path)).pipe(Effect.mapError(() => invalid("--trace", "a readable directory", path))))
        .filter((name) => /\.(json|csv)$/i.test(name))
        .sort()
        .map((name) => `${path.replace(/\/+$/, "")}/${name}`)
      : [path]
    if (paths.length === 0) return yield* invalid("--trace", "a directory with .json or .csv traces", path)
    return yield* Effect.forEach(paths, (file) =>
      readInputFile(file, { kind: "trace", flag: "--trace" }).pipe(Effect.map((text): TraceText => ({ path: file, text }))))
  })

const parsePolicies = (text: string): Effect.Effect<ReadonlyArray<PolicyOrOptimal>, InvalidInput> => {
  const names = text.split(",").map((name) => name.trim()).filter((name) => name !== "")
  const unknown = names.filter((name) => !POLICY_NAMES.includes(name))
  if (names.length === 0 || unknown.length > 0) {
    return Effect.fail(invalid("--policy", `comma-separated names from ${POLICY_NAMES.join(", ")}`, text))
  }
  return Effect.succeed(names.flatMap((name): Array<PolicyOrOptimal> => {
    if (name === "optimal") return ["optimal"]
    const found = onlinePolicyByName(name)
    return found === undefined ? [] : [found]
  }))
}

const checkRanges = (input: {
  readonly computeHours: number
  readonly deadlineHours: number
  readonly restartHours: number
  readonly onDemandPrice: number
  readonly spotPrice: Option.Option<number>
  readonly starts: number
}): Effect.Effect<void, InvalidInput> => {
  const issues: Array<InputIssue> = []
  const positive = (flag: string, value: number) => {
    if (!(value > 0)) issues.push({ path: flag, expected: "a number above 0", actual: String(value) })
  }
  positive("--compute-hours", input.computeHours)
  positive("--deadline-hours", input.deadlineHours)
  positive("--on-demand-price", input.onDemandPrice)
  if (Option.isSome(input.spotPrice)) positive("--spot-price", input.spotPrice.value)
  if (!(input.restartHours >= 0)) issues.push({ path: "--restart-hours", expected: "hours ≥ 0", actual: String(input.restartHours) })
  if (input.deadlineHours < input.computeHours + input.restartHours) {
    issues.push({
      path: "--deadline-hours",
      expected: `at least --compute-hours + --restart-hours (${input.computeHours + input.restartHours})`,
      actual: String(input.deadlineHours)
    })
  }
  if (!(input.starts >= 1 && input.starts <= 100_000)) issues.push({ path: "--starts", expected: "1 to 100000", actual: String(input.starts) })
  return issues.length === 0
    ? Effect.void
    : Effect.fail(new InvalidInput({ source: issues.map((i) => i.path).join(", "), issues }))
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "—")

const table = (policies: Record<string, PolicySummary>): ReadonlyArray<string> =>
  renderTable(
    [
      { header: "POLICY" },
      { header: "RUNS", align: "right" },
      { header: "MISSES", align: "right" },
      { header: "COST/OD", align: "right" },
      { header: "P50", align: "right" },
      { header: "P90", align: "right" },
      { header: "OD h", align: "right" },
      { header: "SPOT h", align: "right" }
    ],
    Object.entries(policies).map(([name, s]) => [
      name,
      `${s.runs}`,
      `${s.deadlineMisses}`,
      fixed(s.meanCostNormalized, 3),
      fixed(s.p50CostNormalized, 3),
      fixed(s.p90CostNormalized, 3),
      fixed(s.meanOnDemandHours, 1),
      fixed(s.meanSpotHours, 1)
    ])
  )

export const simulate = Command.make(
  "simulate",
  { trace, policy, computeHours, deadlineHours, restartHours, onDemandPrice, spotPrice, zones, starts, seed, json },
  Effect.fnUntraced(function*(input) {
    yield* checkRanges(input)
    const policies = yield* parsePolicies(input.policy)
    const traces = yield* decodeTraceFiles(yield* readTraceTexts(input.trace))
    if (traces.length === 0) return yield* invalid("--trace", "at least one trace", input.trace)
    const sets = zoneSetsOf(traces, input.zones)
    const job: JobSpec = {
      computeHours: input.computeHours,
      deadlineHours: input.deadlineHours,
      changeoverHours: input.restartHours,
      onDemandPriceUsdPerHour: input.onDemandPrice,
      spotPriceUsdPerHour: Option.getOrElse(input.spotPrice, () => (DEFAULT_SPOT_USD * input.onDemandPrice) / DEFAULT_ON_DEMAND_USD),
      useTracePrices: Option.isNone(input.spotPrice)
    }
    const tooShort = sets.filter((set) => set.ticks * set.tickHours < input.deadlineHours)
    if (tooShort.length > 0) {
      return yield* invalid("--deadline-hours", `at most the trace length (${tooShort[0]?.name}: ${fixed((tooShort[0]?.ticks ?? 0) * (tooShort[0]?.tickHours ?? 0), 1)} h)`, String(input.deadlineHours))
    }
    const optimalMethods = [...new Set(sets.map((set) => resolveOptimalMethod(set, job, "auto")))]
    const summaries = runExperiment(sets, job, policies, { starts: input.starts, seed: input.seed, optimal: "auto" })
    const settings = {
      trace: input.trace,
      traces: traces.map((t) => t.name),
      zones: input.zones,
      zoneSets: sets.map((set) => set.name),
      computeHours: input.computeHours,
      deadlineHours: input.deadlineHours,
      restartHours: input.restartHours,
      onDemandPriceUsdPerHour: input.onDemandPrice,
      spotPriceUsdPerHour: Option.isSome(input.spotPrice) ? input.spotPrice.value : "trace prices where present, else " + fixed(job.spotPriceUsdPerHour, 4),
      startsPerTrace: input.starts,
      seed: input.seed,
      optimal: policies.includes("optimal") ? (optimalMethods.length === 1 ? optimalMethods[0] : optimalMethods.join("+")) : null
    }
    if (input.json) return yield* Console.log(JSON.stringify({ settings, policies: summaries }, null, 2))
    const lines = [
      `${sets.length} zone set(s) from ${traces.length} trace(s), ${input.starts} starts each: C ${input.computeHours} h, deadline ${input.deadlineHours} h, changeover ${input.restartHours} h.`,
      "Cost is normalised to on-demand-only for the same job (1.000).",
      "",
      ...table(summaries),
      ...(settings.optimal === null ? [] : ["", `optimal: ${settings.optimal === "exact" ? "exact DP" : "Lagrangian lower bound (exact DP too slow here)"}`])
    ]
    yield* Console.log(lines.join("\n"))
  })
).pipe(
  Command.withDescription("Replay spot availability traces against the spot policies (cost, deadline misses)"),
  Command.withExamples([
    {
      command: "frugal simulate --trace traces/aws-10-26-2022 --compute-hours 48 --deadline-hours 60 --restart-hours 0.2",
      description: "The setting of Table 3 of Wu et al., NSDI '24"
    }
  ])
)
