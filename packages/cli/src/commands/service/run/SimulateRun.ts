/** `frugal service simulate`: every policy on the traces, as a table or the JSON of the CLI contract. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd } from "@frugal/core"
import type { PolicySummary } from "@frugal/serving"
import { serviceSimulation } from "@frugal/sdk/service"
import { catalogLayer } from "../../../Catalogs.ts"
import { renderTable } from "../../../Table.ts"
import { serviceFile, serviceFlagNames } from "./ServiceFile.ts"

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
  const { text, source } = yield* serviceFile(input.file)
  const report = yield* serviceSimulation(text, {
    source,
    requests: input.requests,
    spotTraces: input.spotTraces,
    rateScale: input.rateScale,
    policies: input.policies,
    days: input.days,
    startHour: input.startHour,
    dailyTrough: input.dailyTrough,
    peakHourUtc: input.peakHour,
    baselineOnDemandBase: Option.getOrUndefined(input.baselineBase)
  }).pipe(serviceFlagNames, Effect.provide(catalogLayer(input.catalog)))
  if (input.json) return yield* Console.log(JSON.stringify(report, null, 2))
  const { replica, spotTraces: zones } = report.settings
  yield* Console.log([
    `${input.days} day(s) of ${input.requests} × ${input.rateScale} (daily profile: trough ${input.dailyTrough} of the peak at ${input.peakHour} UTC) over ${zones.zones.length} zones from ${input.spotTraces}, starting ${input.startHour} h in.`,
    `Replicas: 1 × ${replica.instanceType} (${replica.gpusPerReplica} × ${replica.accelerator}, ${replica.requestsPerSecond.toFixed(2)} requests/s each); availability is the share of minutes with replicas.min ready; cost is against on-demand autoscaled by the same rule.`,
    "",
    ...table(report.policies)
  ].join("\n"))
})
