/**
 * Where spend comes from: Cost Explorer (live) or the JSON files the AWS CLI printed (offline).
 * Both produce raw Cost Explorer documents decoded by the same schema (`CostExplorerResponse.ts`).
 *
 * Live queries (all daily over the period, metrics AmortizedCost and UsageQuantity):
 * - GetCostAndUsage grouped by INSTANCE_TYPE and PURCHASE_TYPE, filtered to EC2 instance usage (required);
 * - GetCostAndUsage grouped by AZ and INSTANCE_TYPE (which region each type ran in);
 * - GetCostAndUsage grouped by USAGE_TYPE, filtered to data transfer usage-type groups;
 * - GetCostAndUsage grouped by RECORD_TYPE, filtered to credits and refunds (which the others leave out);
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
import { type InvalidInput, RemoteServiceFailure, type UnavailablePart } from "@frugal/core"
import { awsCall, awsClientOptions, currentAwsCallSettings, toRemoteServiceFailure, withAwsCallSettings } from "@frugal/pricing/aws/call"
import { Context, Effect, Layer, Option, Result, Stream } from "effect"
import { type InputFileOptions, readInputFile } from "@frugal/core/io"
import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import type { CostData, Period } from "../CostData.ts"
import { invalid, parseJson } from "../InputDecoding.ts"
import { checkResponses, costDataFromResponses } from "./CostExplorerResponse.ts"

/** What a cost source read: the data, and the calls that failed (their part of the data is missing). */
export interface CostReading {
  readonly data: CostData
  readonly unavailable: ReadonlyArray<UnavailablePart>
}

const SERVICE = "AWS Cost Explorer"

/** One Cost Explorer query: its pages, or why they could not be had (a bad answer is the service's fault, not the user's). */
interface Query {
  /** The API's name for it, as in errors: `GetCostAndUsage`. */
  readonly operation: string
  /** Which of several queries of one operation it is, as the report names it: `data transfer`. */
  readonly label?: string
  /** Without it there is no report: the spend by instance type and purchase option. */
  readonly required: boolean
  readonly pages: Effect.Effect<ReadonlyArray<unknown>, RemoteServiceFailure>
}

const nameOf = (query: Query): string => (query.label === undefined ? query.operation : `${query.operation} (${query.label})`)

export class CostSource extends Context.Service<CostSource, {
  /** Spend over `period`; file sources ignore it and report the period their files cover. */
  readonly costs: (period: Period) => Effect.Effect<CostReading, InvalidInput | RemoteServiceFailure>
}>()("@frugal/waste/CostSource") {
  /**
   * Cost Explorer through the SDK; configuration (credentials, endpoint) the standard way, overridable. Every call
   * goes through the shared AWS call wrapper (retries, timeouts, deadline). The spend query is required; each
   * other query that fails is named in the reading and its part is left out (a partial report).
   */
  static readonly layerCostExplorer = (config: CostExplorerClientConfig = {}): Layer.Layer<CostSource> =>
    Layer.effect(
      CostSource,
      Effect.gen(function*() {
        // Cost Explorer has one endpoint, in us-east-1.
        const region = "us-east-1"
        const settings = yield* currentAwsCallSettings
        const options = awsClientOptions(settings.timeouts)
        const client = yield* Effect.acquireRelease(
          Effect.sync(() => new CostExplorerClient({ region, ...options, ...config })),
          (client) => Effect.sync(() => client.destroy())
        )
        const call = <A>(operation: string, send: (abortSignal: AbortSignal) => Promise<A>) =>
          awsCall({ service: "Cost Explorer", operation, region }, send).pipe(Effect.mapError(toRemoteServiceFailure), withAwsCallSettings(settings))
        const paged = <A extends { readonly NextPageToken?: string | undefined }>(
          operation: string,
          send: (token: string | undefined, abortSignal: AbortSignal) => Promise<A>
        ) =>
          Stream.paginate(undefined as string | undefined, (token) =>
            call(operation, (abortSignal) => send(token, abortSignal)).pipe(
              Effect.map((page) => [[page], Option.fromNullishOr(page.NextPageToken)] as const)
            )).pipe(Stream.runCollect)

        const queries = (period: Period): ReadonlyArray<Query> => {
          const base = { TimePeriod: { Start: period.start, End: period.end }, Granularity: "DAILY" as const }
          const metrics = ["AmortizedCost", "UsageQuantity"]
          const runningHours = { Dimensions: { Key: "USAGE_TYPE_GROUP" as const, Values: ["EC2: Running Hours"] } }
          // Credits and refunds are fetched on their own (RECORD_TYPE), so the spend queries leave them out.
          const notAdjustments = { Not: { Dimensions: { Key: "RECORD_TYPE" as const, Values: ["Credit", "Refund"] } } }
          const costAndUsage = (label: string, input: GetCostAndUsageCommandInput, required = false): Query => ({
            operation: "GetCostAndUsage",
            label,
            required,
            pages: paged("GetCostAndUsage", (token, abortSignal) =>
              client.send(new GetCostAndUsageCommand({ ...input, NextPageToken: token }), { abortSignal }))
          })
          return [
            costAndUsage("by instance type and purchase type", {
              ...base,
              Metrics: metrics,
              GroupBy: [{ Type: "DIMENSION", Key: "INSTANCE_TYPE" }, { Type: "DIMENSION", Key: "PURCHASE_TYPE" }],
              Filter: { And: [runningHours, notAdjustments] }
            }, true),
            costAndUsage("by zone", {
              ...base,
              Metrics: metrics,
              GroupBy: [{ Type: "DIMENSION", Key: "AZ" }, { Type: "DIMENSION", Key: "INSTANCE_TYPE" }],
              Filter: { And: [runningHours, notAdjustments] }
            }),
            costAndUsage("data transfer", {
              ...base,
              Metrics: metrics,
              GroupBy: [{ Type: "DIMENSION", Key: "USAGE_TYPE" }],
              Filter: {
                And: [
                  {
                    Dimensions: {
                      Key: "USAGE_TYPE_GROUP",
                      Values: ["EC2: Data Transfer - Inter AZ", "EC2: Data Transfer - Region to Region (Out)"]
                    }
                  },
                  notAdjustments
                ]
              }
            }),
            costAndUsage("credits and refunds", {
              ...base,
              Metrics: metrics,
              GroupBy: [{ Type: "DIMENSION", Key: "RECORD_TYPE" }],
              Filter: { And: [runningHours, { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit", "Refund"] } }] }
            }),
            {
              operation: "GetReservationUtilization",
              required: false,
              pages: paged("GetReservationUtilization", (token, abortSignal) =>
                client.send(
                  new GetReservationUtilizationCommand({
                    TimePeriod: base.TimePeriod,
                    GroupBy: [{ Type: "DIMENSION", Key: "SUBSCRIPTION_ID" }],
                    NextPageToken: token
                  }),
                  { abortSignal }
                ))
            },
            {
              operation: "GetSavingsPlansUtilization",
              required: false,
              pages: Effect.map(
                call("GetSavingsPlansUtilization", (abortSignal) =>
                  client.send(new GetSavingsPlansUtilizationCommand({ TimePeriod: base.TimePeriod, Granularity: "DAILY" }), { abortSignal })),
                (page) => [page]
              )
            }
          ]
        }

        /** A query's pages, checked: an answer that does not decode is the service failing, never the user's input. */
        const answered = (query: Query) =>
          Effect.flatMap(query.pages, (pages) => {
            const documents = pages.map((json, index) => ({ source: `${nameOf(query)} page ${index + 1}`, json }))
            return checkResponses(documents).pipe(
              Effect.as(documents),
              Effect.mapError((error) =>
                new RemoteServiceFailure({ service: SERVICE, operation: query.operation, region, detail: `the answer does not decode: ${error.message}` })
              )
            )
          })

        return CostSource.of({
          costs: Effect.fn("CostSource.costs")(function*(period: Period) {
            const documents: Array<{ readonly source: string; readonly json: unknown }> = []
            const unavailable: Array<UnavailablePart> = []
            for (const query of queries(period)) {
              const outcome = yield* Effect.result(answered(query))
              if (Result.isSuccess(outcome)) documents.push(...outcome.success)
              else if (query.required) return yield* outcome.failure
              else unavailable.push({ service: SERVICE, operation: nameOf(query), detail: outcome.failure.detail })
            }
            const data = yield* costDataFromResponses(documents).pipe(
              Effect.mapError((error) => new RemoteServiceFailure({ service: SERVICE, operation: "GetCostAndUsage", region, detail: error.message }))
            )
            return { data, unavailable }
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
          return { data: yield* costDataFromResponses(documents), unavailable: [] }
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
