import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { CostSource } from "../src/sources/CostSource.ts"
import { UtilizationSource } from "../src/sources/UtilizationSource.ts"
import { type Answer, startLoopbackAws, testCredentials } from "./support/LoopbackAws.ts"

const period = { start: "2026-11-02", end: "2026-11-04" }
const slice = (start: string, end: string, groups: Array<[Array<string>, string, string]>) => ({
  TimePeriod: { Start: start, End: end },
  Total: {},
  Groups: groups.map(([keys, cost, quantity]) => ({
    Keys: keys,
    Metrics: { AmortizedCost: { Amount: cost, Unit: "USD" }, UsageQuantity: { Amount: quantity, Unit: "N/A" } }
  })),
  Estimated: false
})
const definitions = (...keys: Array<string>) => keys.map((key) => ({ Type: "DIMENSION", Key: key }))

// Documented shapes: API_GetCostAndUsage.html, API_GetReservationUtilization.html, API_GetSavingsPlansUtilization.html
const costExplorer: Answer = (operation, input) => {
  if (operation === "GetCostAndUsage") {
    const groupBy = (input["GroupBy"] as Array<{ Key: string }>).map((group) => group.Key).join(",")
    if (groupBy === "INSTANCE_TYPE,PURCHASE_TYPE") {
      return input["NextPageToken"] === undefined
        ? { GroupDefinitions: definitions("INSTANCE_TYPE", "PURCHASE_TYPE"), NextPageToken: "page-2",
            ResultsByTime: [slice("2026-11-02", "2026-11-03", [[["g5.12xlarge", "On Demand Instances"], "272.256", "48"]])] }
        : { GroupDefinitions: definitions("INSTANCE_TYPE", "PURCHASE_TYPE"),
            ResultsByTime: [slice("2026-11-03", "2026-11-04", [
              [["g5.12xlarge", "On Demand Instances"], "136.128", "24"],
              [["p4d.24xlarge", "Spot Instances"], "158.4", "24"]
            ])] }
    }
    if (groupBy === "RECORD_TYPE") {
      return { GroupDefinitions: definitions("RECORD_TYPE"),
        ResultsByTime: [slice("2026-11-02", "2026-11-03", [[["Credit"], "-50", "0"]])] }
    }
    if (groupBy === "AZ,INSTANCE_TYPE") {
      return { GroupDefinitions: definitions("AZ", "INSTANCE_TYPE"),
        ResultsByTime: [slice("2026-11-02", "2026-11-03", [[["us-west-2b", "g5.12xlarge"], "272.256", "48"]])] }
    }
    return { GroupDefinitions: definitions("USAGE_TYPE"),
      ResultsByTime: [slice("2026-11-02", "2026-11-03", [[["USE1-USW2-AWS-Out-Bytes"], "20", "1000"]])] }
  }
  if (operation === "GetReservationUtilization") {
    const utilization = { PurchasedHours: "48", UnusedHours: "12", TotalAmortizedFee: "96", UtilizationPercentage: "75" }
    return input["NextPageToken"] === undefined
      ? { NextPageToken: "ri-2", Total: utilization, UtilizationsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-03" },
          Groups: [{ Key: "SUBSCRIPTION_ID", Value: "ri-1", Attributes: { instanceType: "g4dn.12xlarge" }, Utilization: utilization }] }] }
      : { Total: utilization, UtilizationsByTime: [{ TimePeriod: { Start: "2026-11-03", End: "2026-11-04" },
          Groups: [{ Key: "SUBSCRIPTION_ID", Value: "ri-1", Attributes: { instanceType: "g4dn.12xlarge" }, Utilization: utilization }] }] }
  }
  return { SavingsPlansUtilizationsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-03" },
    Utilization: { TotalCommitment: "100", UsedCommitment: "90", UnusedCommitment: "10", UtilizationPercentage: "90" } }],
    Total: { Utilization: { TotalCommitment: "100", UsedCommitment: "90", UnusedCommitment: "10", UtilizationPercentage: "90" } } }
}

describe("CostSource.layerCostExplorer", () => {
  it.live("reads every page of every query through the real SDK client", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startLoopbackAws("1.1", costExplorer)), (s) => Effect.promise(s.close))
      const { data, unavailable } = yield* CostSource.use((source) => source.costs(period)).pipe(
        Effect.provide(CostSource.layerCostExplorer({ endpoint: server.url, credentials: testCredentials }))
      )
      assert.deepStrictEqual(unavailable, [])
      assert.deepStrictEqual(data.period, period)
      assert.deepStrictEqual(data.compute.map((row) => [row.date, row.instanceType, row.purchaseOption, row.costUsd, row.usageHours]), [
        ["2026-11-02", "g5.12xlarge", "on-demand", 272.256, 48],
        ["2026-11-03", "g5.12xlarge", "on-demand", 136.128, 24],
        ["2026-11-03", "p4d.24xlarge", "spot", 158.4, 24]
      ])
      assert.deepStrictEqual(data.zones.map((row) => row.availabilityZone), ["us-west-2b"])
      assert.deepStrictEqual(data.reservations, [
        { id: "ri-1", instanceType: "g4dn.12xlarge", purchasedHours: 96, unusedHours: 24, amortizedFeeUsd: 192 }
      ])
      assert.deepStrictEqual(data.savingsPlans.map((plan) => plan.unusedCommitmentUsd), [10])
      // Credits come from their own RECORD_TYPE query, which the spend queries leave out.
      assert.deepStrictEqual(data.adjustments, [{ date: "2026-11-02", recordType: "credit", amountUsd: -50 }])
      const pages = server.requests.filter((request) => request.operation === "GetCostAndUsage")
      assert.deepStrictEqual(pages.map((request) => request.input["NextPageToken"] ?? null), [null, "page-2", null, null, null])
      assert.deepStrictEqual(pages[0]?.input["Filter"], {
        And: [
          { Dimensions: { Key: "USAGE_TYPE_GROUP", Values: ["EC2: Running Hours"] } },
          { Not: { Dimensions: { Key: "RECORD_TYPE", Values: ["Credit", "Refund"] } } }
        ]
      })
      assert.deepStrictEqual(pages[0]?.input["Granularity"], "DAILY")
      assert.deepStrictEqual(pages[0]?.input["TimePeriod"], { Start: "2026-11-02", End: "2026-11-04" })
    }))

  it.live("retries throttling and reports a persistent failure as RemoteServiceFailure", () =>
    Effect.gen(function*() {
      const throttleOnce: Answer = (operation, input, calls) =>
        calls === 1 ? { status: 400, type: "ThrottlingException", message: "Rate exceeded" } : costExplorer(operation, input, calls)
      const server = yield* Effect.acquireRelease(Effect.promise(() => startLoopbackAws("1.1", throttleOnce)), (s) => Effect.promise(s.close))
      const config = { endpoint: server.url, credentials: testCredentials, maxAttempts: 1 }
      const { data } = yield* CostSource.use((source) => source.costs(period)).pipe(Effect.provide(CostSource.layerCostExplorer(config)))
      assert.strictEqual(data.compute.length, 3)

      const denied = yield* Effect.acquireRelease(
        Effect.promise(() => startLoopbackAws("1.1", () => ({ status: 400, type: "AccessDeniedException", message: "no ce:GetCostAndUsage" }))),
        (s) => Effect.promise(s.close)
      )
      const exit = yield* CostSource.use((source) => source.costs(period)).pipe(
        Effect.provide(CostSource.layerCostExplorer({ endpoint: denied.url, credentials: testCredentials, maxAttempts: 1 })),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(Exit.isFailure(exit) ? exit.cause : ""), /Cost Explorer GetCostAndUsage in us-east-1 failed: AccessDeniedException/)
      assert.strictEqual(denied.requests.length, 1)
    }))
})

describe("CostSource.layerCostExplorer keeps what it got", () => {
  it.live("a failing or garbled optional query is named, and the spend and the other queries are kept", () =>
    Effect.gen(function*() {
      const partly: Answer = (operation, input, calls) =>
        operation === "GetReservationUtilization"
          ? { status: 400, type: "AccessDeniedException", message: "no ce:GetReservationUtilization" }
          : operation === "GetSavingsPlansUtilization"
          ? { SavingsPlansUtilizationsByTime: [{ TimePeriod: { Start: "2026-11-05", End: "2026-11-02" },
            Utilization: { TotalCommitment: "100", UnusedCommitment: "10" } }] }
          : costExplorer(operation, input, calls)
      const server = yield* Effect.acquireRelease(Effect.promise(() => startLoopbackAws("1.1", partly)), (s) => Effect.promise(s.close))
      const { data, unavailable } = yield* CostSource.use((source) => source.costs(period)).pipe(
        Effect.provide(CostSource.layerCostExplorer({ endpoint: server.url, credentials: testCredentials }))
      )
      assert.strictEqual(data.compute.length, 3)
      assert.deepStrictEqual(data.reservations, [])
      assert.deepStrictEqual(data.savingsPlans, [])
      assert.deepStrictEqual(unavailable.map((part) => [part.service, part.operation]), [
        ["AWS Cost Explorer", "GetReservationUtilization"],
        ["AWS Cost Explorer", "GetSavingsPlansUtilization"]
      ])
      assert.match(unavailable[0]?.detail ?? "", /^AccessDeniedException: HTTP 400: no ce:GetReservationUtilization/)
      assert.match(unavailable[1]?.detail ?? "", /^the answer does not decode: .*TimePeriod: expected a period whose Start is before its End/)
    }))
})

describe("UtilizationSource.layerCloudWatch", () => {
  it.live("merges a series split across GetMetricData pages (awsJson1_0, epoch-second timestamps)", () =>
    Effect.gen(function*() {
      const t = (hour: number) => Date.parse("2026-11-02T00:00:00Z") / 1000 + hour * 3600
      const server = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startLoopbackAws("1.0", (_operation, input) =>
            input["NextToken"] === undefined
              ? { NextToken: "cw-2", Messages: [], MetricDataResults: [
                  { Id: "utilization", Label: "i-0abc g5.12xlarge 0 nvidia_smi_utilization_gpu", Timestamps: [t(0), t(1)], Values: [5, 90], StatusCode: "PartialData" },
                  { Id: "memory", Label: "i-0abc g5.12xlarge 0 nvidia_smi_memory_used", Timestamps: [t(0)], Values: [1024], StatusCode: "PartialData" }
                ] }
              : { Messages: [], MetricDataResults: [
                  { Id: "utilization", Label: "i-0abc g5.12xlarge 0 nvidia_smi_utilization_gpu", Timestamps: [t(2)], Values: [7], StatusCode: "Complete" }
                ] })
        ),
        (s) => Effect.promise(s.close)
      )
      const gpus = yield* UtilizationSource.use((source) => source.gpus(period)).pipe(
        Effect.provide(UtilizationSource.layerCloudWatch({ endpoint: server.url, region: "us-west-2", credentials: testCredentials }))
      )
      assert.deepStrictEqual(gpus, [{
        instanceId: "i-0abc",
        instanceType: "g5.12xlarge",
        gpuIndex: 0,
        samples: [
          { time: "2026-11-02T00:00:00.000Z", utilizationPct: 5, memoryUsedMiB: 1024 },
          { time: "2026-11-02T01:00:00.000Z", utilizationPct: 90, memoryUsedMiB: null },
          { time: "2026-11-02T02:00:00.000Z", utilizationPct: 7, memoryUsedMiB: null }
        ]
      }])
      assert.strictEqual(server.requests.length, 2)
      const queries = server.requests[0]?.input["MetricDataQueries"] as Array<{ Expression: string; Label: string }>
      assert.match(queries[0]?.Expression ?? "", /MetricName="nvidia_smi_utilization_gpu"/)
      assert.strictEqual(server.requests[1]?.input["NextToken"], "cw-2")
    }))
})
