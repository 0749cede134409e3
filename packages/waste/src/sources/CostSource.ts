/**
 * Where spend comes from: Cost Explorer (live) or the JSON files the AWS CLI printed (offline).
 * Both produce raw Cost Explorer documents decoded by the same schema (`CostExplorerResponse.ts`).
 *
 * Live queries (all daily over the period, metrics AmortizedCost and UsageQuantity):
 * - GetCostAndUsage grouped by INSTANCE_TYPE and PURCHASE_TYPE, filtered to EC2 instance usage;
 * - GetCostAndUsage grouped by AZ and INSTANCE_TYPE (which region each type ran in);
 * - GetCostAndUsage grouped by USAGE_TYPE, filtered to data transfer usage-type groups;
 * - GetReservationUtilization grouped by SUBSCRIPTION_ID; GetSavingsPlansUtilization.
 * GetCostAndUsage and GetReservationUtilization are paginated by NextPageToken.
 */
import {
  CostExplorerClient,
  type CostExplorerClientConfig,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandInput,
  GetReservationUtilizationCommand,
  GetSavingsPlansUtilizationCommand
} from "@aws-sdk/client-cost-explorer"
import type { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { type InputFileOptions, readInputFile } from "@frugal/core/io"
import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import type { CostData, Period } from "../CostData.ts"
import { invalid, parseJson } from "../InputDecoding.ts"
import { awsCall } from "./AwsCall.ts"
import { costDataFromResponses } from "./CostExplorerResponse.ts"

export class CostSource extends Context.Service<CostSource, {
  /** Spend over `period`; file sources ignore it and report the period their files cover. */
  readonly costs: (period: Period) => Effect.Effect<CostData, InvalidInput | RemoteServiceFailure>
}>()("@frugal/waste/CostSource") {
  /** Cost Explorer through the SDK; configuration (credentials, endpoint) the standard way, overridable. */
  static readonly layerCostExplorer = (config: CostExplorerClientConfig = {}): Layer.Layer<CostSource> =>
    Layer.effect(
      CostSource,
      Effect.gen(function*() {
        // Cost Explorer has one endpoint, in us-east-1.
        const region = "us-east-1"
        const client = yield* Effect.acquireRelease(
          Effect.sync(() => new CostExplorerClient({ region, ...config })),
          (client) => Effect.sync(() => client.destroy())
        )
        const documents = (period: Period) => {
          const base = { TimePeriod: { Start: period.start, End: period.end }, Granularity: "DAILY" as const }
          const costAndUsage = (input: GetCostAndUsageCommandInput) =>
            Stream.paginate(undefined as string | undefined, (token) =>
              awsCall("Cost Explorer", "GetCostAndUsage", region, (abortSignal) =>
                client.send(new GetCostAndUsageCommand({ ...input, NextPageToken: token }), { abortSignal })
              ).pipe(Effect.map((page) => [[page], Option.fromNullishOr(page.NextPageToken)] as const))
            )
          const reservations = Stream.paginate(undefined as string | undefined, (token) =>
            awsCall("Cost Explorer", "GetReservationUtilization", region, (abortSignal) =>
              client.send(
                new GetReservationUtilizationCommand({
                  TimePeriod: base.TimePeriod,
                  GroupBy: [{ Type: "DIMENSION", Key: "SUBSCRIPTION_ID" }],
                  NextPageToken: token
                }),
                { abortSignal }
              )
            ).pipe(Effect.map((page) => [[page], Option.fromNullishOr(page.NextPageToken)] as const))
          )
          const savingsPlans = Stream.fromEffect(
            awsCall("Cost Explorer", "GetSavingsPlansUtilization", region, (abortSignal) =>
              client.send(new GetSavingsPlansUtilizationCommand({ TimePeriod: base.TimePeriod, Granularity: "DAILY" }), {
                abortSignal
              })
            )
          )
          const metrics = ["AmortizedCost", "UsageQuantity"]
          return Stream.concat(
            Stream.concat(
              costAndUsage({
                ...base,
                Metrics: metrics,
                GroupBy: [{ Type: "DIMENSION", Key: "INSTANCE_TYPE" }, { Type: "DIMENSION", Key: "PURCHASE_TYPE" }],
                Filter: { Dimensions: { Key: "USAGE_TYPE_GROUP", Values: ["EC2: Running Hours"] } }
              }),
              costAndUsage({
                ...base,
                Metrics: metrics,
                GroupBy: [{ Type: "DIMENSION", Key: "AZ" }, { Type: "DIMENSION", Key: "INSTANCE_TYPE" }],
                Filter: { Dimensions: { Key: "USAGE_TYPE_GROUP", Values: ["EC2: Running Hours"] } }
              })
            ),
            Stream.concat(
              costAndUsage({
                ...base,
                Metrics: metrics,
                GroupBy: [{ Type: "DIMENSION", Key: "USAGE_TYPE" }],
                Filter: {
                  Dimensions: {
                    Key: "USAGE_TYPE_GROUP",
                    Values: ["EC2: Data Transfer - Inter AZ", "EC2: Data Transfer - Region to Region (Out)"]
                  }
                }
              }),
              Stream.concat(reservations, savingsPlans)
            )
          ).pipe(Stream.runCollect)
        }
        return CostSource.of({
          costs: Effect.fn("CostSource.costs")(function*(period: Period) {
            const pages = yield* documents(period)
            return yield* costDataFromResponses(pages.map((json, index) => ({ source: `Cost Explorer response ${index + 1}`, json })))
          })
        })
      })
    )

  /**
   * The JSON `aws ce get-cost-and-usage` (and the utilisation commands) printed, one response per file;
   * a directory stands for every `.json` file in it.
   */
  static readonly layerFiles = (paths: ReadonlyArray<string>): Layer.Layer<CostSource> =>
    Layer.succeed(
      CostSource,
      CostSource.of({
        costs: Effect.fn("CostSource.costs")(function*() {
          const documents: Array<{ source: string; json: unknown }> = []
          for (const path of yield* expandDirectories(paths)) {
            documents.push({ source: path, json: yield* readJsonFile(path, { kind: "costExplorer", flag: "--ce-file" }) })
          }
          return yield* costDataFromResponses(documents)
        })
      })
    )
}

/** A JSON input file through the shared bounded reader (regular files only, a size cap per kind). */
export const readJsonFile = (path: string, options: InputFileOptions): Effect.Effect<unknown, InvalidInput> =>
  Effect.flatMap(readInputFile(path, options), (text) => parseJson(text, path))

/** `--ce-file` values: a file stands for itself, a directory for every `.json` file in it. */
const expandDirectories = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, InvalidInput> =>
  Effect.forEach(paths, (path) =>
    Effect.tryPromise({
      try: async () => {
        // stat, unlike open, does not wait on a FIFO; the reader refuses anything that is not a regular file.
        if (!(await stat(path)).isDirectory()) return [path]
        return (await readdir(path)).filter((name) => name.endsWith(".json")).sort().map((name) => join(path, name))
      },
      catch: (error) =>
        invalid(path, "", "a readable file or directory", error instanceof Error ? error.message.replace(/^[A-Z]+: /, "") : String(error))
    })).pipe(Effect.map((lists) => lists.flat()))
