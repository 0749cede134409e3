/**
 * `frugal simulate` / `Frugal.simulate`: replays spot availability traces (the skypilot-org/spot-traces JSON, or CSV
 * `timestamp,available[,price]`; a directory may also hold a `…prices.json` map) against the spot policies, from N
 * random start points per trace, and reports each policy's cost normalised to on-demand-only, its deadline misses
 * and its on-demand/spot hours (docs/spot-policy.md). Bad settings are one `InvalidInput` naming every field.
 */
import * as Effect from "effect/Effect"
import { readdir, stat } from "node:fs/promises"
import { type InputIssue, InvalidInput } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"
import {
  decodeTraceFiles,
  type JobSpec as SimulatedJob,
  ONLINE_POLICY_NAMES,
  onlinePolicyByName,
  type PolicyOrOptimal,
  type PolicySummary,
  resolveOptimalMethod,
  runExperiment,
  type TraceText,
  zoneSetsOf
} from "@frugal/planner"

/** Every policy `simulate` knows: the online ones (the planner's one list) and the omniscient lower bound. */
export const SIMULATION_POLICY_NAMES = [...ONLINE_POLICY_NAMES, "optimal"] as const
/** p3.2xlarge in us-east-1, the instance of the paper's V100 traces, and its mean spot price there. */
export const DEFAULT_SIMULATION_ON_DEMAND_USD = 3.06
export const DEFAULT_SIMULATION_SPOT_USD = 0.9731
export const DEFAULT_SIMULATION_STARTS = 300

export interface SimulationRequest {
  /** A trace file (spot-traces JSON or CSV) or a directory of them. */
  readonly trace: string
  /** Policies to compare, as a list or comma-separated (default: all of `SIMULATION_POLICY_NAMES`). */
  readonly policies?: string | ReadonlyArray<string> | undefined
  /** C: hours of compute the job needs. */
  readonly computeHours: number
  /** R: hours from start to deadline. */
  readonly deadlineHours: number
  /** d: changeover delay paid on every launch or move, in hours. */
  readonly restartHours: number
  readonly onDemandPriceUsdPerHour?: number | undefined
  /** Spot price for every tick; absent: the trace's prices, else the default scaled to the on-demand price. */
  readonly spotPriceUsdPerHour?: number | undefined
  /** `multi`: policies may move between the zones of a directory (same instance type). */
  readonly zones?: "single" | "multi" | undefined
  /** Random start points per trace (default 300). */
  readonly starts?: number | undefined
  readonly seed?: number | undefined
}

/** What `frugal simulate --json` prints. */
export interface SimulationReport {
  readonly settings: {
    readonly trace: string
    readonly traces: ReadonlyArray<string>
    readonly zones: "single" | "multi"
    readonly zoneSets: ReadonlyArray<string>
    readonly computeHours: number
    readonly deadlineHours: number
    readonly restartHours: number
    readonly onDemandPriceUsdPerHour: number
    readonly spotPriceUsdPerHour: number | string
    readonly startsPerTrace: number
    readonly seed: number
    /** How `optimal` was computed (`exact` DP or the Lagrangian `bound`); null when it was not asked for. */
    readonly optimal: string | null
  }
  readonly policies: Record<string, PolicySummary>
}

const invalid = (field: string, expected: string, actual: string) =>
  new InvalidInput({ source: field, issues: [{ path: field, expected, actual }] })

/** A trace file, or every `.json`/`.csv` in a directory, each through the shared bounded reader. */
export const readTraceTexts = (path: string, field = "trace"): Effect.Effect<ReadonlyArray<TraceText>, InvalidInput> =>
  Effect.gen(function*() {
    const info = yield* Effect.tryPromise(() => stat(path)).pipe(
      Effect.mapError(() => invalid(field, "an existing trace file or directory", path))
    )
    const paths = info.isDirectory()
      ? (yield* Effect.tryPromise(() => readdir(path)).pipe(Effect.mapError(() => invalid(field, "a readable directory", path))))
        .filter((name) => /\.(json|csv)$/i.test(name))
        .sort()
        .map((name) => `${path.replace(/\/+$/, "")}/${name}`)
      : [path]
    if (paths.length === 0) return yield* invalid(field, "a directory with .json or .csv traces", path)
    return yield* Effect.forEach(paths, (file) =>
      readInputFile(file, { kind: "trace", flag: field }).pipe(Effect.map((text): TraceText => ({ path: file, text }))))
  })

const policyNames = (policies: SimulationRequest["policies"]): ReadonlyArray<string> =>
  policies === undefined
    ? SIMULATION_POLICY_NAMES
    : (typeof policies === "string" ? policies.split(",") : policies).map((name) => name.trim()).filter((name) => name !== "")

const parsePolicies = (policies: SimulationRequest["policies"]): Effect.Effect<ReadonlyArray<PolicyOrOptimal>, InvalidInput> => {
  const names = policyNames(policies)
  const known: ReadonlyArray<string> = SIMULATION_POLICY_NAMES
  const unknown = names.filter((name) => !known.includes(name))
  if (names.length === 0 || unknown.length > 0) {
    return Effect.fail(invalid("policies", `comma-separated names from ${SIMULATION_POLICY_NAMES.join(", ")}`, typeof policies === "string" ? policies : names.join(",")))
  }
  return Effect.succeed(names.flatMap((name): Array<PolicyOrOptimal> => {
    if (name === "optimal") return ["optimal"]
    const found = onlinePolicyByName(name)
    return found === undefined ? [] : [found]
  }))
}

const checkRanges = (request: SimulationRequest, onDemandPrice: number, starts: number): Effect.Effect<void, InvalidInput> => {
  const issues: Array<InputIssue> = []
  const positive = (field: string, value: number) => {
    if (!(value > 0)) issues.push({ path: field, expected: "a number above 0", actual: String(value) })
  }
  positive("computeHours", request.computeHours)
  positive("deadlineHours", request.deadlineHours)
  positive("onDemandPriceUsdPerHour", onDemandPrice)
  if (request.spotPriceUsdPerHour !== undefined) positive("spotPriceUsdPerHour", request.spotPriceUsdPerHour)
  if (!(request.restartHours >= 0)) issues.push({ path: "restartHours", expected: "hours ≥ 0", actual: String(request.restartHours) })
  if (request.deadlineHours < request.computeHours + request.restartHours) {
    issues.push({
      path: "deadlineHours",
      expected: `at least computeHours + restartHours (${request.computeHours + request.restartHours})`,
      actual: String(request.deadlineHours)
    })
  }
  if (!(Number.isInteger(starts) && starts >= 1 && starts <= 100_000)) issues.push({ path: "starts", expected: "1 to 100000", actual: String(starts) })
  return issues.length === 0
    ? Effect.void
    : Effect.fail(new InvalidInput({ source: issues.map((i) => i.path).join(", "), issues }))
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "—")

/** Runs the policies over the traces. */
export const simulatePolicies = Effect.fn("Frugal.simulate")(function*(
  request: SimulationRequest
): Effect.fn.Return<SimulationReport, InvalidInput> {
  const onDemandPrice = request.onDemandPriceUsdPerHour ?? DEFAULT_SIMULATION_ON_DEMAND_USD
  const starts = request.starts ?? DEFAULT_SIMULATION_STARTS
  const seed = request.seed ?? 1
  const zones = request.zones ?? "single"
  yield* checkRanges(request, onDemandPrice, starts)
  const policies = yield* parsePolicies(request.policies)
  const traces = yield* decodeTraceFiles(yield* readTraceTexts(request.trace))
  if (traces.length === 0) return yield* invalid("trace", "at least one trace", request.trace)
  const sets = zoneSetsOf(traces, zones)
  const job: SimulatedJob = {
    computeHours: request.computeHours,
    deadlineHours: request.deadlineHours,
    changeoverHours: request.restartHours,
    onDemandPriceUsdPerHour: onDemandPrice,
    spotPriceUsdPerHour: request.spotPriceUsdPerHour ?? (DEFAULT_SIMULATION_SPOT_USD * onDemandPrice) / DEFAULT_SIMULATION_ON_DEMAND_USD,
    useTracePrices: request.spotPriceUsdPerHour === undefined
  }
  const tooShort = sets.find((set) => set.ticks * set.tickHours < request.deadlineHours)
  if (tooShort !== undefined) {
    return yield* invalid("deadlineHours", `at most the trace length (${tooShort.name}: ${fixed(tooShort.ticks * tooShort.tickHours, 1)} h)`, String(request.deadlineHours))
  }
  const optimalMethods = [...new Set(sets.map((set) => resolveOptimalMethod(set, job, "auto")))]
  const summaries = runExperiment(sets, job, policies, { starts, seed, optimal: "auto" })
  return {
    settings: {
      trace: request.trace,
      traces: traces.map((t) => t.name),
      zones,
      zoneSets: sets.map((set) => set.name),
      computeHours: request.computeHours,
      deadlineHours: request.deadlineHours,
      restartHours: request.restartHours,
      onDemandPriceUsdPerHour: onDemandPrice,
      spotPriceUsdPerHour: request.spotPriceUsdPerHour ?? "trace prices where present, else " + fixed(job.spotPriceUsdPerHour, 4),
      startsPerTrace: starts,
      seed,
      optimal: policies.includes("optimal") ? (optimalMethods.length === 1 ? optimalMethods[0] ?? null : optimalMethods.join("+")) : null
    },
    policies: summaries
  }
})
