/**
 * `frugal simulate --trace FILE|DIR --policy P,... --compute-hours C --deadline-hours R
 *  --restart-hours d [--on-demand-price P --spot-price S] [--zones multi] [--starts N --seed S] [--json]`:
 * replays spot availability traces against the spot policies (the SDK's `simulatePolicies`, docs/spot-policy.md)
 * and prints each policy's cost normalised to on-demand-only, its deadline misses and its on-demand/spot hours.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { PolicySummary } from "@frugal/planner"
import {
  DEFAULT_SIMULATION_ON_DEMAND_USD,
  DEFAULT_SIMULATION_SPOT_USD,
  DEFAULT_SIMULATION_STARTS,
  SIMULATION_POLICY_NAMES,
  simulatePolicies
} from "@frugal/sdk"
import { withFlagNames } from "../FieldFlags.ts"
import { MAX_USD_PER_HOUR, within } from "../FlagBounds.ts"
import { renderTable } from "../Table.ts"

const trace = Flag.String("trace").pipe(
  Flag.withDescription("A trace file (spot-traces JSON or CSV timestamp,available[,price]) or a directory of them")
)
const policy = Flag.String("policy").pipe(
  Flag.withDescription(`Comma-separated policies: ${SIMULATION_POLICY_NAMES.join(", ")}`),
  Flag.withDefault(SIMULATION_POLICY_NAMES.join(","))
)
const computeHours = Flag.Finite("compute-hours").pipe(Flag.withDescription("C: hours of compute the job needs"))
const deadlineHours = Flag.Finite("deadline-hours").pipe(Flag.withDescription("R: hours from start to deadline"))
const restartHours = Flag.Finite("restart-hours").pipe(
  Flag.withDescription("d: changeover delay paid on every launch or move, in hours")
)
const onDemandPrice = Flag.Finite("on-demand-price").pipe(
  Flag.withDescription(`On-demand USD per hour (default ${DEFAULT_SIMULATION_ON_DEMAND_USD})`),
  within("on-demand-price", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.withDefault(DEFAULT_SIMULATION_ON_DEMAND_USD)
)
const spotPrice = Flag.Finite("spot-price").pipe(
  Flag.withDescription(`Spot USD per hour for every tick (default: the trace's prices, else ${DEFAULT_SIMULATION_SPOT_USD})`),
  within("spot-price", 0, MAX_USD_PER_HOUR, "USD per hour"),
  Flag.optional
)
const zones = Flag.Literals("zones", ["single", "multi"]).pipe(
  Flag.withDescription("multi: policies may move between the zones of a directory (same instance type)"),
  Flag.withDefault("single" as const)
)
const starts = Flag.Int("starts").pipe(Flag.withDescription("Random start points per trace"), Flag.withDefault(DEFAULT_SIMULATION_STARTS))
const seed = Flag.Int("seed").pipe(Flag.withDescription("Seed of the start points"), Flag.withDefault(1))
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))

/** The request's fields as this command's flags. */
const FLAGS = { policies: "--policy", onDemandPriceUsdPerHour: "--on-demand-price", spotPriceUsdPerHour: "--spot-price" }
const FIELDS = ["trace", "policies", "computeHours", "deadlineHours", "restartHours", "onDemandPriceUsdPerHour", "spotPriceUsdPerHour", "starts"]

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
    const report = yield* simulatePolicies({
      trace: input.trace,
      policies: input.policy,
      computeHours: input.computeHours,
      deadlineHours: input.deadlineHours,
      restartHours: input.restartHours,
      onDemandPriceUsdPerHour: input.onDemandPrice,
      spotPriceUsdPerHour: Option.getOrUndefined(input.spotPrice),
      zones: input.zones,
      starts: input.starts,
      seed: input.seed
    }).pipe(withFlagNames(FIELDS, FLAGS))
    if (input.json) return yield* Console.log(JSON.stringify(report, null, 2))
    const { settings } = report
    const lines = [
      `${settings.zoneSets.length} zone set(s) from ${settings.traces.length} trace(s), ${input.starts} starts each: C ${input.computeHours} h, deadline ${input.deadlineHours} h, changeover ${input.restartHours} h.`,
      "Cost is normalised to on-demand-only for the same job (1.000).",
      "",
      ...table(report.policies),
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
