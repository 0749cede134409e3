/**
 * `frugal gpus [--region R|all] [--gpu NAME] [--json] [--catalog …] [--pricing-config FILE]`: the GPU price list.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsdPerHour, InvalidInput } from "@frugal/core"
import { DEFAULT_PRICE_LIST_REGION, gpuPriceList, type PriceListRow } from "@frugal/sdk"
import { catalogFlag, catalogLayer, pricingConfigFlag } from "../Catalogs.ts"
import { catalogLines, gib, interruptionBucketLabel, percent } from "../Format.ts"
import { renderTable } from "../Table.ts"

const DEFAULT_REGION = DEFAULT_PRICE_LIST_REGION

const region = Flag.String("region").pipe(
  Flag.withDescription(`AWS region to list, or "all" for every region (default ${DEFAULT_REGION})`),
  Flag.withDefault(DEFAULT_REGION)
)
const gpu = Flag.String("gpu").pipe(
  Flag.withDescription("Only this accelerator, any case: T4, A10G, L4, L40S, A100 (both sizes), H100, ..."),
  Flag.optional
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))

/** The SDK names the query fields `region` and `gpu`; on the command line they are flags. */
const asFlagError = (error: InvalidInput): InvalidInput =>
  new InvalidInput({
    source: error.issues.map((issue) => `--${issue.path}`).join(", "),
    issues: error.issues.map((issue) => ({ ...issue, path: `--${issue.path}` }))
  })

const countLabel = (count: number): string => (Number.isInteger(count) ? `${count}` : count.toString())

const table = (rows: ReadonlyArray<PriceListRow>, allRegions: boolean): ReadonlyArray<string> =>
  renderTable(
    [
      { header: "INSTANCE" },
      { header: "GPU" },
      { header: "GPU MEM", align: "right" },
      { header: "vCPU", align: "right" },
      { header: "RAM", align: "right" },
      { header: "ON-DEMAND", align: "right" },
      { header: "SPOT", align: "right" },
      { header: "SAVING", align: "right" },
      { header: "SPOT AZ" },
      { header: "INTERRUPTIONS" },
      ...(allRegions ? [{ header: "REGION" }] : [])
    ],
    rows.map((row) => [
      row.instanceType,
      `${row.accelerator} ×${countLabel(row.acceleratorCount)}`,
      gib(row.totalAcceleratorMemoryGiB),
      `${row.vcpus}`,
      gib(row.memoryGiB),
      row.onDemandHourlyUsd === null ? "—" : formatUsdPerHour(row.onDemandHourlyUsd, "glance"),
      row.spot === null ? "—" : formatUsdPerHour(row.spot.hourlyPriceUsd, "glance"),
      row.spot?.savingVsOnDemand == null ? "—" : percent(row.spot.savingVsOnDemand),
      row.spot?.availabilityZone ?? "—",
      row.spot === null ? "—" : interruptionBucketLabel(row.spot.interruptionBucket),
      ...(allRegions ? [row.region] : [])
    ])
  )

export const gpus = Command.make(
  "gpus",
  { region, gpu, json, catalog: catalogFlag, pricingConfig: pricingConfigFlag },
  Effect.fnUntraced(function*(input) {
    const report = yield* gpuPriceList({ region: input.region, gpu: Option.getOrUndefined(input.gpu) }).pipe(
      Effect.mapError((error) => error._tag === "InvalidInput" ? asFlagError(error) : error)
    )
    if (input.json) return yield* Console.log(JSON.stringify(report, null, 2))
    const where = report.region ?? "all regions"
    const what = report.accelerators === null ? "GPU instances" : `${report.accelerators.join(", ")} instances`
    const lines = report.instances.length === 0
      ? [`No ${what} in ${where}. Try --region all.`]
      : [`${what} in ${where} (${report.instances.length}), USD per instance-hour:`, "", ...table(report.instances, report.region === null)]
    yield* Console.log([...lines, "", ...catalogLines(report.catalog)].join("\n"))
  }, (effect, input) => Effect.provide(effect, catalogLayer(input.catalog, Option.getOrUndefined(input.pricingConfig))))
).pipe(
  Command.withDescription("List GPU instance types with on-demand and spot prices, like a price list"),
  Command.withExamples([
    { command: "frugal gpus", description: `GPU instances in ${DEFAULT_REGION}` },
    { command: "frugal gpus --gpu H100 --region all", description: "Every H100 instance in every region" }
  ])
)
