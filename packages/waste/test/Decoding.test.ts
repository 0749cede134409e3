import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { creditsUsd, totalSpendUsd } from "../src/CostData.ts"
import { costDataFromResponses } from "../src/sources/CostExplorerResponse.ts"
import { gpuSeriesFromResponses } from "../src/sources/MetricDataResponse.ts"
import { parseSince, previousWeek } from "../src/ReportPeriod.ts"

const group = (keys: Array<string>, amount: string) => ({
  Keys: keys,
  Metrics: { AmortizedCost: { Amount: amount, Unit: "USD" }, UsageQuantity: { Amount: "24", Unit: "N/A" } }
})
const costAndUsage = (keys: Array<string>, groups: Array<ReturnType<typeof group>>) => ({
  GroupDefinitions: keys.map((Key) => ({ Type: "DIMENSION", Key })),
  ResultsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-03" }, Total: {}, Groups: groups, Estimated: false }]
})

const failure = <A, E extends { message: string }>(effect: Effect.Effect<A, E>) => Effect.map(Effect.flip(effect), (error) => error.message)

describe("decoding Cost Explorer and CloudWatch files", () => {
  it.effect("names the field, the value and what was expected", () =>
    Effect.gen(function*() {
      const json = costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "On Demand Instances"], "12.5"), group(["g5.xlarge", "Spot Instances"], "lots")])
      assert.strictEqual(
        yield* failure(costDataFromResponses([{ source: "ce.json", json }])),
        'ce.json: ResultsByTime[0].Groups[1].Metrics.AmortizedCost.Amount: expected a decimal number in a string, like "12.5", got "lots"'
      )
    }))

  it.effect("rejects a grouping findings cannot use and an unknown purchase type", () =>
    Effect.gen(function*() {
      assert.match(
        yield* failure(costDataFromResponses([{ source: "ce.json", json: costAndUsage(["SERVICE"], []) }])),
        /ce\.json: GroupDefinitions: expected grouping by \[INSTANCE_TYPE, PURCHASE_TYPE\].*got \["SERVICE"\]/
      )
      assert.match(
        yield* failure(costDataFromResponses([{
          source: "ce.json",
          json: costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "Bartered Instances"], "1")])
        }])),
        /ResultsByTime\[0\]\.Groups\[0\]\.Keys\[1\]: expected a Cost Explorer purchase type.*got Bartered Instances/
      )
    }))

  it.effect("maps Cost Explorer purchase types and keeps every page", () =>
    Effect.gen(function*() {
      const data = yield* costDataFromResponses([
        { source: "a", json: costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["p5.48xlarge", "Savings Plans"], "10"), group(["p5.48xlarge", "Convertible Reserved Instances"], "20")]) },
        { source: "b", json: costAndUsage(["PURCHASE_TYPE", "INSTANCE_TYPE"], [group(["Dedicated On Demand Instances", "p5.48xlarge"], "30")]) }
      ])
      assert.deepStrictEqual(data.compute.map((row) => [row.purchaseOption, row.costUsd]), [["savings-plan", 10], ["reserved", 20], ["on-demand", 30]])
    }))

  it.effect("requires GPU series labelled with instance, type, index and metric", () =>
    Effect.gen(function*() {
      const json = { MetricDataResults: [{ Id: "u", Label: "nvidia_smi_utilization_gpu", Timestamps: ["2026-11-02T00:00:00+00:00"], Values: [3] }] }
      assert.match(
        yield* failure(gpuSeriesFromResponses([{ source: "cw.json", json }])),
        /cw\.json: MetricDataResults\[0\]\.Label: expected `<InstanceId> <InstanceType> <gpu index>/
      )
      const uneven = { MetricDataResults: [{ Label: "i-0abc g5.xlarge 0 nvidia_smi_utilization_gpu", Timestamps: ["2026-11-02T00:00:00Z"], Values: [1, 2] }] }
      assert.match(yield* failure(gpuSeriesFromResponses([{ source: "cw.json", json: uneven }])), /Values: expected as many values as timestamps \(1\), got 2/)
    }))

  it.effect("rejects dates that do not exist and periods that end before they start, naming the field", () =>
    Effect.gen(function*() {
      const at = (start: string, end: string) => ({
        ...costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "On Demand Instances"], "12.5")]),
        ResultsByTime: [{ TimePeriod: { Start: start, End: end }, Groups: [group(["g5.xlarge", "On Demand Instances"], "12.5")] }]
      })
      assert.strictEqual(
        yield* failure(costDataFromResponses([{ source: "ce.json", json: at("2026-13-45", "2026-11-03") }])),
        'ce.json: ResultsByTime[0].TimePeriod.Start: expected a date that exists, written YYYY-MM-DD, got "2026-13-45"'
      )
      assert.strictEqual(
        yield* failure(costDataFromResponses([{ source: "ce.json", json: at("2026-02-27", "2026-02-30") }])),
        'ce.json: ResultsByTime[0].TimePeriod.End: expected a date that exists, written YYYY-MM-DD, got "2026-02-30"'
      )
      assert.match(
        yield* failure(costDataFromResponses([{ source: "ce.json", json: at("2026-11-09", "2026-11-02") }])),
        /^ce\.json: ResultsByTime\[0\]\.TimePeriod: expected a period whose Start is before its End, got/
      )
      const reservations = {
        UtilizationsByTime: [{ TimePeriod: { Start: "2026-11-03", End: "2026-11-02" }, Total: { PurchasedHours: "24", UnusedHours: "2", TotalAmortizedFee: "9" } }]
      }
      assert.match(yield* failure(costDataFromResponses([{ source: "ri.json", json: reservations }])), /ri\.json: UtilizationsByTime\[0\]\.TimePeriod: expected a period whose Start is before its End/)
    }))

  it.effect("rejects negative spend, hours and fees, and impossible utilisation", () =>
    Effect.gen(function*() {
      const spend = costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "On Demand Instances"], "-1e6")])
      assert.strictEqual(
        yield* failure(costDataFromResponses([{ source: "ce.json", json: spend }])),
        "ce.json: ResultsByTime[0].Groups[0].Metrics.AmortizedCost.Amount: expected spend of 0 or more " +
          "(credits and refunds belong in a response grouped by RECORD_TYPE), got -1000000"
      )
      const huge = costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "On Demand Instances"], "1e308")])
      assert.match(yield* failure(costDataFromResponses([{ source: "ce.json", json: huge }])), /Amount: expected an amount within ±1000000000000/)
      const fee = { UtilizationsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-03" }, Total: { PurchasedHours: "24", UnusedHours: "2", TotalAmortizedFee: "-9" } }] }
      assert.match(yield* failure(costDataFromResponses([{ source: "ri.json", json: fee }])), /UtilizationsByTime\[0\]\.Total\.TotalAmortizedFee: expected a decimal number of 0 or more/)
      const unused = { UtilizationsByTime: [{ TimePeriod: { Start: "2026-11-02", End: "2026-11-03" }, Total: { PurchasedHours: "24", UnusedHours: "30", TotalAmortizedFee: "9" } }] }
      assert.match(yield* failure(costDataFromResponses([{ source: "ri.json", json: unused }])), /UtilizationsByTime\[0\]\.Total: expected UnusedHours no more than PurchasedHours/)
    }))

  it.effect("keeps credits and refunds as their own records, never as spend; a positive credit is refused", () =>
    Effect.gen(function*() {
      const data = yield* costDataFromResponses([
        { source: "spend", json: costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], [group(["g5.xlarge", "On Demand Instances"], "100")]) },
        {
          source: "credits",
          json: costAndUsage(["RECORD_TYPE"], [group(["Credit"], "-1000000"), group(["Refund"], "-20"), group(["Usage"], "100")])
        }
      ])
      assert.deepStrictEqual(data.compute.map((row) => row.costUsd), [100])
      assert.deepStrictEqual(data.adjustments, [
        { date: "2026-11-02", recordType: "credit", amountUsd: -1000000 },
        { date: "2026-11-02", recordType: "refund", amountUsd: -20 }
      ])
      assert.strictEqual(creditsUsd(data), 1000020)
      assert.strictEqual(totalSpendUsd(data), 100)
      assert.match(
        yield* failure(costDataFromResponses([{ source: "credits", json: costAndUsage(["RECORD_TYPE"], [group(["Credit"], "5")]) }])),
        /credits: ResultsByTime\[0\]\.Groups\[0\]\.Metrics\.AmortizedCost\.Amount: expected a credit of 0 or less \(money given back\), got 5/
      )
    }))

  it.effect("reads --since as whole days before today", () =>
    Effect.gen(function*() {
      const now = Date.parse("2026-11-23T10:30:00Z")
      assert.deepStrictEqual(yield* parseSince("30d", now), { start: "2026-10-24", end: "2026-11-23" })
      assert.deepStrictEqual(yield* parseSince("2w", now), { start: "2026-11-09", end: "2026-11-23" })
      assert.deepStrictEqual(yield* parseSince("2026-11-01", now), { start: "2026-11-01", end: "2026-11-23" })
      assert.match(yield* failure(parseSince("tomorrow", now)), /--since: expected a number of days or weeks/)
      for (const impossible of ["2026-02-30", "2026-13-45", "2026-04-31"]) {
        assert.match(yield* failure(parseSince(impossible, now)), /--since: expected .* or a past date/, impossible)
      }
      assert.deepStrictEqual(yield* parseSince("2024-02-29", now), { start: "2024-02-29", end: "2026-11-23" })
      assert.deepStrictEqual(previousWeek(now), { start: "2026-11-16", end: "2026-11-23" })
    }))
})
