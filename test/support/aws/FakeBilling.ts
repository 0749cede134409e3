/**
 * A loopback Cost Explorer (awsJson1_1, `X-Amz-Target: AWSInsightsIndexService.<Operation>`) and CloudWatch
 * (awsJson1_0, `GraniteServiceVersion20100801.<Operation>`, timestamps as epoch seconds) on one server, answering
 * from the example week in `examples/waste`: what `frugal report` asks live, so the real process can be run
 * against it with `AWS_ENDPOINT_URL`. `withFault` (Faults.ts) wraps `handler` to break any call.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { awsJsonError, awsJsonOperation } from "./AwsJson.ts"
import type { LoopbackHandler, LoopbackRequest, LoopbackResponse } from "./LoopbackServer.ts"

const examples = fileURLToPath(new URL("../../../examples/waste/", import.meta.url))

const readJson = (path: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(readFileSync(path, "utf8"))
  return typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {}
}

const groupKeys = (document: Record<string, unknown>): string => {
  const definitions = document["GroupDefinitions"]
  return Array.isArray(definitions)
    ? definitions.map((definition: unknown) => (typeof definition === "object" && definition !== null ? String(Reflect.get(definition, "Key")) : "")).join(",")
    : ""
}

/** The example week's Cost Explorer answers, by the grouping a GetCostAndUsage request asks for. */
const costExplorerDocuments = (): { readonly byGrouping: Map<string, Record<string, unknown>>; readonly reservations: Record<string, unknown> } => {
  const byGrouping = new Map<string, Record<string, unknown>>()
  let reservations: Record<string, unknown> = { UtilizationsByTime: [] }
  for (const name of readdirSync(join(examples, "cost-explorer"))) {
    const document = readJson(join(examples, "cost-explorer", name))
    if ("UtilizationsByTime" in document) reservations = document
    else byGrouping.set(groupKeys(document), document)
  }
  return { byGrouping, reservations }
}

/** The example utilisation as CloudWatch's JSON 1.0 protocol sends it (epoch seconds). */
const metricData = (): Record<string, unknown> => {
  const document = readJson(join(examples, "gpu-utilization.json"))
  const results = Array.isArray(document["MetricDataResults"]) ? document["MetricDataResults"] : []
  return {
    Messages: [],
    MetricDataResults: results.map((result: unknown) => {
      const record = typeof result === "object" && result !== null ? Object.fromEntries(Object.entries(result)) : {}
      const timestamps = Array.isArray(record["Timestamps"]) ? record["Timestamps"] : []
      return { ...record, Timestamps: timestamps.map((time: unknown) => Date.parse(String(time)) / 1000) }
    })
  }
}

const json = (version: "1.0" | "1.1", body: unknown): LoopbackResponse => ({
  status: 200,
  headers: { "content-type": `application/x-amz-json-${version}`, "x-amzn-requestid": "loopback" },
  body: JSON.stringify(body)
})

const inputOf = (request: LoopbackRequest): Record<string, unknown> => {
  const parsed: unknown = request.body === "" ? {} : JSON.parse(request.body)
  return typeof parsed === "object" && parsed !== null ? Object.fromEntries(Object.entries(parsed)) : {}
}

const requestedGrouping = (input: Record<string, unknown>): string => {
  const groupBy = input["GroupBy"]
  return Array.isArray(groupBy)
    ? groupBy.map((group: unknown) => (typeof group === "object" && group !== null ? String(Reflect.get(group, "Key")) : "")).join(",")
    : ""
}

/** The service a request is for: `Cost Explorer` or `CloudWatch`. */
export const billingServiceOf = (request: LoopbackRequest): "Cost Explorer" | "CloudWatch" | undefined => {
  const target = String(request.headers["x-amz-target"] ?? "")
  return target.startsWith("AWSInsightsIndexService.") ? "Cost Explorer" : target.startsWith("GraniteServiceVersion20100801.") ? "CloudWatch" : undefined
}

/** Answers Cost Explorer and CloudWatch from the example week. */
export const fakeBillingHandler = (): LoopbackHandler => {
  const { byGrouping, reservations } = costExplorerDocuments()
  const metrics = metricData()
  return (request) => {
    const operation = awsJsonOperation(request)
    const input = inputOf(request)
    switch (operation) {
      case "GetCostAndUsage": {
        const grouping = requestedGrouping(input)
        const found = byGrouping.get(grouping)
        // A grouping the example week has no file for (credits and refunds): an answer with no groups.
        return json("1.1", found ?? {
          GroupDefinitions: grouping.split(",").map((Key) => ({ Type: "DIMENSION", Key })),
          ResultsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-09" }, Groups: [], Total: {}, Estimated: false }]
        })
      }
      case "GetReservationUtilization":
        return json("1.1", reservations)
      case "GetSavingsPlansUtilization":
        return json("1.1", { SavingsPlansUtilizationsByTime: [] })
      case "GetMetricData":
        return json("1.0", metrics)
      default:
        return awsJsonError("UnknownOperationException", `unknown operation ${operation ?? "(none)"}`)
    }
  }
}
