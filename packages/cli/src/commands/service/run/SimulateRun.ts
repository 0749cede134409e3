/** `frugal service simulate`: every policy on the traces, as a table or the JSON of the CLI contract. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd, type InputIssue, InvalidInput } from "@frugal/core"
import { isPolicyName, type PolicyName, type PolicySummary, simulateServiceWorkload } from "@frugal/serving"
import { renderTable } from "../../../Table.ts"
import { POLICY_NAMES } from "../simulate.ts"
import { loadCatalog, readRequestTrace, readServiceWorkload, readSpotTraces } from "./Inputs.ts"

interface Input {
  readonly file: string
  readonly requests: string
  readonly spotTraces: string
  readonly rateScale: number
  readonly policies: string
  readonly days: number
  readonly startHour: number
  readonly dailyTrough: number
  readonly peakHour: number
  readonly baselineBase: Option.Option<number>
  readonly catalog: string
  readonly json: boolean
}

const checkFlags = (input: Input): Effect.Effect<ReadonlyArray<PolicyName>, InvalidInput> => {
  const issues: Array<InputIssue> = []
  const names = input.policies.split(",").map((n) => n.trim()).filter((n) => n !== "")
  const policies = names.filter(isPolicyName)
  if (names.length === 0 || policies.length !== names.length) {
    issues.push({ path: "--policies", expected: `comma-separated names from ${POLICY_NAMES.join(", ")}`, actual: input.policies })
  }
  const range = (flag: string, value: number, ok: boolean, expected: string) => {
    if (!ok) issues.push({ path: flag, expected, actual: String(value) })
  }
  range("--rate-scale", input.rateScale, input.rateScale > 0 && input.rateScale <= 1e4, "a number above 0 and at most 10,000")
  range("--days", input.days, input.days >= 1 / 1440 && input.days <= 366, "a number of days above 0 and at most 366")
  range("--start-hour", input.startHour, input.startHour >= 0, "hours into the spot traces, 0 or more")
  range("--daily-trough", input.dailyTrough, input.dailyTrough >= 0 && input.dailyTrough <= 1, "a share from 0 to 1")
  range("--peak-hour-utc", input.peakHour, input.peakHour >= 0 && input.peakHour < 24, "an hour from 0 to below 24")
  if (Option.isSome(input.baselineBase)) {
    range("--baseline-on-demand-base", input.baselineBase.value, input.baselineBase.value >= 0, "a whole number of replicas, 0 or more")
  }
  return issues.length === 0
    ? Effect.succeed(policies)
    : Effect.fail(new InvalidInput({ source: issues.map((i) => i.path).join(", "), issues }))
}

const percent = (value: number, digits: number) => `${(value * 100).toFixed(digits)}%`

const table = (policies: Record<string, PolicySummary>): ReadonlyArray<string> =>
  renderTable(
    [
      { header: "POLICY" },
      { header: "COST", align: "right" },
      { header: "VS ON-DEMAND", align: "right" },
      { header: "AVAILABILITY", align: "right" },
      { header: "OVER CAPACITY", align: "right" },
      { header: "REPLICAS", align: "right" },
      { header: "SPOT h", align: "right" },
      { header: "ON-DEMAND h", align: "right" },
      { header: "RECLAIMED", align: "right" }
    ],
    Object.entries(policies).map(([name, s]) => [
      name,
      formatUsd(s.costUsd, "glance"),
      percent(s.costVsOnDemand, 1),
      percent(s.availability, 2),
      `${s.overloadedRequestsPct.toFixed(2)}%`,
      s.meanReplicas.toFixed(1),
      s.spotReplicaHours.toFixed(0),
      s.onDemandReplicaHours.toFixed(0),
      String(s.preemptions)
    ])
  )

export const run = Effect.fnUntraced(function*(input: Input) {
  const policies = yield* checkFlags(input)
  const workload = yield* readServiceWorkload(input.file)
  const requests = yield* readRequestTrace(input.requests)
  const spotTraces = yield* readSpotTraces(input.spotTraces)
  const catalog = yield* loadCatalog(input.catalog)
  const report = yield* simulateServiceWorkload({
    workload,
    workloadSource: input.file,
    requests,
    spotTraces,
    spotTracesSource: input.spotTraces,
    catalog,
    policies,
    rateScale: input.rateScale,
    days: input.days,
    startHours: input.startHour,
    profile: { peakHourUtc: input.peakHour, troughShare: input.dailyTrough },
    baselines: Option.isSome(input.baselineBase) ? { onDemandBase: input.baselineBase.value } : {}
  })
  if (input.json) return yield* Console.log(JSON.stringify(report, null, 2))
  const { replica, spotTraces: zones } = report.settings
  yield* Console.log([
    `${input.days} day(s) of ${input.requests} × ${input.rateScale} (daily profile: trough ${input.dailyTrough} of the peak at ${input.peakHour} UTC) over ${zones.zones.length} zones from ${input.spotTraces}, starting ${input.startHour} h in.`,
    `Replicas: 1 × ${replica.instanceType} (${replica.gpusPerReplica} × ${replica.accelerator}, ${replica.requestsPerSecond.toFixed(2)} requests/s each); availability is the share of minutes with replicas.min ready; cost is against on-demand autoscaled by the same rule.`,
    "",
    ...table(report.policies)
  ].join("\n"))
})
