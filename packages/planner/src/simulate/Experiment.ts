/**
 * Many runs of many policies over a set of traces: N random start ticks per zone set (the same
 * starts for every policy), summarised the way `frugal simulate --json` prints it.
 */
import type { Policy } from "../policies/Policy.ts"
import { OptimalSolver, progressUnitsPerTick } from "./Optimal.ts"
import { OptimalBoundSolver } from "./OptimalBound.ts"
import { deadlineTicks, type JobSpec, type RunOutcome, Simulator } from "./Simulator.ts"
import type { ZoneSet } from "./SpotTrace.ts"

export interface PolicySummary {
  readonly runs: number
  readonly deadlineMisses: number
  readonly meanCostNormalized: number
  readonly meanOnDemandHours: number
  readonly meanSpotHours: number
  readonly p50CostNormalized: number
  readonly p90CostNormalized: number
}

/** `optimal` is not an online policy: it is solved per run with the whole trace in view. */
export type PolicyOrOptimal = Policy | "optimal"

export const policyName = (policy: PolicyOrOptimal): string => (policy === "optimal" ? "optimal" : policy.name)

/** Small, fast, seedable PRNG (mulberry32) so that starts are reproducible everywhere. */
export const seededRandom = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` start ticks drawn uniformly from those that leave a whole deadline window in the trace. */
export const startTicks = (set: ZoneSet, job: JobSpec, count: number, seed: number): Int32Array => {
  const last = set.ticks - deadlineTicks(set, job)
  const starts = new Int32Array(count)
  if (last < 0) return new Int32Array(0)
  const random = seededRandom(seed)
  for (let i = 0; i < count; i++) starts[i] = Math.floor(random() * (last + 1))
  return starts
}

const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const below = Math.floor(position)
  const above = Math.ceil(position)
  const low = sorted[below] ?? Number.NaN
  const high = sorted[above] ?? Number.NaN
  return low + (high - low) * (position - below)
}

/** Accumulates run outcomes of one policy. */
export class SummaryBuilder {
  private readonly costs: Array<number> = []
  private misses = 0
  private onDemandHours = 0
  private spotHours = 0
  add(outcome: RunOutcome): void {
    this.costs.push(outcome.costNormalized)
    if (outcome.missedDeadline) this.misses++
    this.onDemandHours += outcome.onDemandComputeHours
    this.spotHours += outcome.spotComputeHours
  }
  summary(): PolicySummary {
    const runs = this.costs.length
    const sorted = Float64Array.from(this.costs).sort()
    let total = 0
    for (const cost of this.costs) total += cost
    return {
      runs,
      deadlineMisses: this.misses,
      meanCostNormalized: total / runs,
      meanOnDemandHours: this.onDemandHours / runs,
      meanSpotHours: this.spotHours / runs,
      p50CostNormalized: quantile(sorted, 0.5),
      p90CostNormalized: quantile(sorted, 0.9)
    }
  }
}

/**
 * How `optimal` is computed: `exact` (the DP of `Optimal.ts`), `bound` (the Lagrangian lower
 * bound of `OptimalBound.ts`, thousands of times cheaper on long traces), or `auto`: exact when
 * one run's DP stays under `EXACT_WORK_LIMIT` state updates, the bound otherwise.
 */
export type OptimalMethod = "exact" | "bound" | "auto"

export const EXACT_WORK_LIMIT = 1.5e6

export interface ExperimentOptions {
  readonly starts: number
  readonly seed: number
  readonly optimal?: OptimalMethod
}

/** The method `auto` picks for a zone set and job. */
export const resolveOptimalMethod = (set: ZoneSet, job: JobSpec, method: OptimalMethod): "exact" | "bound" => {
  if (method !== "auto") return method
  const m = progressUnitsPerTick(set.tickHours, job.changeoverHours, 5)
  const window = deadlineTicks(set, job)
  const slackUnits = Math.max(1, (window * set.tickHours - job.computeHours) / (set.tickHours / m))
  const phases = Math.max(1, Math.ceil(job.changeoverHours / set.tickHours))
  const states = 1 + (1 + set.zones.length) * phases
  return window * slackUnits * states <= EXACT_WORK_LIMIT ? "exact" : "bound"
}

/** Every policy on every zone set, from the same random starts; summaries keyed by policy name. */
export const runExperiment = (
  sets: ReadonlyArray<ZoneSet>,
  job: JobSpec,
  policies: ReadonlyArray<PolicyOrOptimal>,
  options: ExperimentOptions
): Record<string, PolicySummary> => {
  const builders = policies.map(() => new SummaryBuilder())
  sets.forEach((set, setIndex) => {
    const starts = startTicks(set, job, options.starts, options.seed + setIndex * 7919)
    const simulator = new Simulator(set)
    let solver: { run: (job: JobSpec, start: number) => RunOutcome } | null = null
    // The bound warm-starts from the previous run's multiplier, which is closest for the nearest
    // start: solve the starts in time order (the summary does not depend on the order of runs).
    const sortedStarts = Int32Array.from(starts).sort()
    policies.forEach((policy, i) => {
      const builder = builders[i]
      if (builder === undefined) return
      for (let run = 0; run < starts.length; run++) {
        const start = (policy === "optimal" ? sortedStarts[run] : starts[run]) ?? 0
        if (policy === "optimal") {
          solver ??= resolveOptimalMethod(set, job, options.optimal ?? "auto") === "exact"
            ? new OptimalSolver(set)
            : new OptimalBoundSolver(set)
          builder.add(solver.run(job, start))
        } else {
          builder.add(simulator.run(job, policy, start, options.seed ^ (start * 2654435761)))
        }
      }
    })
  })
  const result: Record<string, PolicySummary> = {}
  policies.forEach((policy, i) => {
    const builder = builders[i]
    if (builder !== undefined) result[policyName(policy)] = builder.summary()
  })
  return result
}
