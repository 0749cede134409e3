/**
 * The JSON Cost Explorer returns, decoded the same way whether it came from the SDK or from a file
 * the AWS CLI printed (`aws ce get-cost-and-usage`, `get-reservation-utilization`,
 * `get-savings-plans-utilization`): the CLI prints the API response unchanged, so one schema serves both.
 * Shapes: https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
 * (ResultsByTime / Groups / Metrics with string Amounts), API_GetReservationUtilization.html
 * (UtilizationsByTime / Groups / Utilization), API_GetSavingsPlansUtilization.html.
 */
import type { InvalidInput, PurchaseOption } from "@frugal/core"
import { Effect, Predicate, Schema, SchemaTransformation } from "effect"
import type { ComputeSpend, CostAdjustment, CostData, ReservationUse, SavingsPlanUse, UsageTypeSpend, ZoneSpend } from "../CostData.ts"
import { decodeInput, invalid } from "../InputDecoding.ts"
import { isCalendarDate } from "../ReportPeriod.ts"

/** No account spends a trillion dollars in a report period: larger figures are corrupt data, not spend. */
export const MAX_AMOUNT = 1e12

/**
 * Cost Explorer writes amounts as decimal strings (`"786.4"`, `"1.2E-4"`). Signed, because credits and refunds
 * are negative; where a figure must not be (spend, hours) the grouping's rows check it (`costAndUsageRows`).
 */
const SignedAmount = Schema.String.check(
  Schema.isPattern(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, { expected: 'a decimal number in a string, like "12.5"' })
).pipe(
  Schema.decodeTo(
    Schema.Finite.check(Schema.isBetween({ minimum: -MAX_AMOUNT, maximum: MAX_AMOUNT }, { expected: `an amount within ±${MAX_AMOUNT}` })),
    SchemaTransformation.numberFromString
  )
)
/** Hours, fees and commitments: never negative. */
const Amount = Schema.String.check(
  Schema.isPattern(/^\d+(\.\d+)?([eE][-+]?\d+)?$/, { expected: 'a decimal number of 0 or more in a string, like "12.5"' })
).pipe(
  Schema.decodeTo(
    Schema.Finite.check(Schema.isLessThanOrEqualTo(MAX_AMOUNT, { expected: `an amount of at most ${MAX_AMOUNT}` })),
    SchemaTransformation.numberFromString
  )
)
const IsoDate = Schema.String.check(
  Schema.makeFilter(isCalendarDate, { expected: "a date that exists, written YYYY-MM-DD" })
)
/** A half-open `[Start, End)` of real dates, Start first. */
const TimePeriod = Schema.Struct({ Start: IsoDate, End: IsoDate }).check(
  Schema.makeFilter((period: { readonly Start: string; readonly End: string }) => period.Start < period.End, {
    expected: "a period whose Start is before its End"
  })
)
const MetricValue = Schema.Struct({ Amount: SignedAmount, Unit: Schema.optional(Schema.String) })

export const GetCostAndUsageOutput = Schema.Struct({
  GroupDefinitions: Schema.Array(Schema.Struct({ Type: Schema.optional(Schema.String), Key: Schema.String })),
  ResultsByTime: Schema.Array(Schema.Struct({
    TimePeriod,
    Groups: Schema.optional(Schema.Array(Schema.Struct({
      Keys: Schema.Array(Schema.String),
      Metrics: Schema.Record(Schema.String, MetricValue)
    })))
  })),
  NextPageToken: Schema.optional(Schema.String)
})
export type GetCostAndUsageOutput = typeof GetCostAndUsageOutput.Type

const ReservationAggregates = Schema.Struct({
  PurchasedHours: Amount,
  UnusedHours: Amount,
  TotalAmortizedFee: Amount
}).check(
  Schema.makeFilter((use: { readonly PurchasedHours: number; readonly UnusedHours: number }) => use.UnusedHours <= use.PurchasedHours, {
    expected: "UnusedHours no more than PurchasedHours"
  })
)

export const GetReservationUtilizationOutput = Schema.Struct({
  UtilizationsByTime: Schema.Array(Schema.Struct({
    TimePeriod,
    Groups: Schema.optional(Schema.Array(Schema.Struct({
      Key: Schema.optional(Schema.String),
      Value: Schema.optional(Schema.String),
      Attributes: Schema.optional(Schema.Record(Schema.String, Schema.String)),
      Utilization: ReservationAggregates
    }))),
    Total: Schema.optional(ReservationAggregates)
  })),
  NextPageToken: Schema.optional(Schema.String)
})
export type GetReservationUtilizationOutput = typeof GetReservationUtilizationOutput.Type

export const GetSavingsPlansUtilizationOutput = Schema.Struct({
  SavingsPlansUtilizationsByTime: Schema.Array(Schema.Struct({
    TimePeriod,
    Utilization: Schema.Struct({ TotalCommitment: Amount, UnusedCommitment: Amount }).check(
      Schema.makeFilter((use: { readonly TotalCommitment: number; readonly UnusedCommitment: number }) => use.UnusedCommitment <= use.TotalCommitment, {
        expected: "UnusedCommitment no more than TotalCommitment"
      })
    )
  }))
})
export type GetSavingsPlansUtilizationOutput = typeof GetSavingsPlansUtilizationOutput.Type

/** Cost Explorer's PURCHASE_TYPE values ("On Demand Instances", "Spot Instances", ...) in our vocabulary. */
export const purchaseOptionOf = (purchaseType: string): PurchaseOption | undefined => {
  const text = purchaseType.toLowerCase()
  if (text.includes("spot")) return "spot"
  if (text.includes("savings plan")) return "savings-plan"
  if (text.includes("reserved")) return "reserved"
  if (text.includes("on demand") || text.includes("on-demand") || text.includes("dedicated")) return "on-demand"
  return undefined
}

/** Prefer amortised cost (spreads commitment upfronts over the hours they cover), else unblended. */
const COST_METRICS = ["AmortizedCost", "NetAmortizedCost", "UnblendedCost", "NetUnblendedCost", "BlendedCost"] as const

type Grouping = "instance-purchase" | "zone-instance" | "usage-type" | "record-type"

const groupingOf = (keys: ReadonlyArray<string>): Grouping | undefined => {
  const joined = keys.join(",")
  if (joined === "INSTANCE_TYPE,PURCHASE_TYPE") return "instance-purchase"
  if (joined === "PURCHASE_TYPE,INSTANCE_TYPE") return "instance-purchase"
  if (joined === "AZ,INSTANCE_TYPE" || joined === "INSTANCE_TYPE,AZ") return "zone-instance"
  if (joined === "USAGE_TYPE") return "usage-type"
  if (joined === "RECORD_TYPE") return "record-type"
  return undefined
}

interface Rows {
  readonly compute: Array<ComputeSpend>
  readonly zones: Array<ZoneSpend>
  readonly usageTypes: Array<UsageTypeSpend>
  readonly adjustments: Array<CostAdjustment>
}

/** Cost Explorer RECORD_TYPE values kept as adjustments; other record types in that grouping are already in the spend. */
const ADJUSTMENT_RECORD_TYPES: Readonly<Record<string, CostAdjustment["recordType"]>> = { Credit: "credit", Refund: "refund" }

const costAndUsageRows = (output: GetCostAndUsageOutput, source: string, rows: Rows): Effect.Effect<void, InvalidInput> =>
  Effect.gen(function*() {
    const keys = output.GroupDefinitions.map((definition) => definition.Key)
    const grouping = groupingOf(keys)
    if (grouping === undefined) {
      return yield* invalid(
        source,
        "GroupDefinitions",
        "grouping by [INSTANCE_TYPE, PURCHASE_TYPE], [AZ, INSTANCE_TYPE], [USAGE_TYPE] or [RECORD_TYPE]",
        JSON.stringify(keys)
      )
    }
    for (const [t, result] of output.ResultsByTime.entries()) {
      for (const [g, group] of (result.Groups ?? []).entries()) {
        const at = `ResultsByTime[${t}].Groups[${g}]`
        const metric = COST_METRICS.map((name) => group.Metrics[name]).find(Predicate.isNotUndefined)
        if (metric === undefined) {
          return yield* invalid(source, `${at}.Metrics`, `one of ${COST_METRICS.join(", ")}`, Object.keys(group.Metrics).join(","))
        }
        const costUsd = metric.Amount
        const quantity = group.Metrics["UsageQuantity"]?.Amount ?? 0
        const date = result.TimePeriod.Start
        const key = (name: string): string | undefined => group.Keys[keys.indexOf(name)]
        const metricName = COST_METRICS.find((name) => group.Metrics[name] !== undefined) ?? "AmortizedCost"
        if (grouping === "record-type") {
          const recordType = ADJUSTMENT_RECORD_TYPES[key("RECORD_TYPE") ?? ""]
          if (recordType === undefined) continue
          if (costUsd > 0) {
            return yield* invalid(source, `${at}.Metrics.${metricName}.Amount`, `a ${recordType} of 0 or less (money given back)`, String(costUsd))
          }
          rows.adjustments.push({ date, recordType, amountUsd: costUsd })
          continue
        }
        // Spend and usage are never negative: credits and refunds are their own records (a RECORD_TYPE grouping).
        if (costUsd < 0) {
          return yield* invalid(
            source,
            `${at}.Metrics.${metricName}.Amount`,
            "spend of 0 or more (credits and refunds belong in a response grouped by RECORD_TYPE)",
            String(costUsd)
          )
        }
        if (quantity < 0) return yield* invalid(source, `${at}.Metrics.UsageQuantity.Amount`, "a usage quantity of 0 or more", String(quantity))
        if (grouping === "usage-type") {
          rows.usageTypes.push({ date, usageType: key("USAGE_TYPE") ?? "", costUsd, usageQuantity: quantity })
          continue
        }
        const instanceType = key("INSTANCE_TYPE")
        if (instanceType === undefined) return yield* invalid(source, `${at}.Keys`, "an INSTANCE_TYPE key")
        if (grouping === "zone-instance") {
          rows.zones.push({ date, availabilityZone: key("AZ") ?? "", instanceType, costUsd, usageHours: quantity })
          continue
        }
        const purchaseType = key("PURCHASE_TYPE") ?? ""
        const purchaseOption = purchaseOptionOf(purchaseType)
        if (purchaseOption === undefined) {
          return yield* invalid(
            source,
            `${at}.Keys[${keys.indexOf("PURCHASE_TYPE")}]`,
            "a Cost Explorer purchase type (On Demand Instances, Spot Instances, ... Reserved Instances, Savings Plans)",
            purchaseType
          )
        }
        rows.compute.push({ date, instanceType, purchaseOption, costUsd, usageHours: quantity })
      }
    }
  })

type ReservationTotals = Map<string, { instanceType: string | null; purchasedHours: number; unusedHours: number; fee: number }>

/** Adds one response's slices to the running totals per reservation (pages and days add up). */
const addReservations = (output: GetReservationUtilizationOutput, byId: ReservationTotals): void => {
  const add = (id: string, instanceType: string | null, aggregates: typeof ReservationAggregates.Type) => {
    const current = byId.get(id) ?? { instanceType, purchasedHours: 0, unusedHours: 0, fee: 0 }
    byId.set(id, {
      instanceType: current.instanceType ?? instanceType,
      purchasedHours: current.purchasedHours + aggregates.PurchasedHours,
      unusedHours: current.unusedHours + aggregates.UnusedHours,
      fee: current.fee + aggregates.TotalAmortizedFee
    })
  }
  for (const slice of output.UtilizationsByTime) {
    const groups = slice.Groups ?? []
    if (groups.length > 0) {
      for (const group of groups) add(group.Value ?? "reservation", group.Attributes?.["instanceType"] ?? null, group.Utilization)
    } else if (slice.Total !== undefined) {
      add("all reservations", null, slice.Total)
    }
  }
}

const reservationRows = (byId: ReservationTotals): ReadonlyArray<ReservationUse> =>
  [...byId.entries()].map(([id, use]) => ({
    id,
    instanceType: use.instanceType,
    purchasedHours: use.purchasedHours,
    unusedHours: use.unusedHours,
    amortizedFeeUsd: use.fee
  }))

const savingsPlanRows = (output: GetSavingsPlansUtilizationOutput): ReadonlyArray<SavingsPlanUse> =>
  output.SavingsPlansUtilizationsByTime.map((slice) => ({
    start: slice.TimePeriod.Start,
    end: slice.TimePeriod.End,
    totalCommitmentUsd: slice.Utilization.TotalCommitment,
    unusedCommitmentUsd: slice.Utilization.UnusedCommitment
  }))

const decodeCostAndUsage = (source: string) => decodeInput(GetCostAndUsageOutput, source)
const decodeReservations = (source: string) => decodeInput(GetReservationUtilizationOutput, source)
const decodeSavingsPlans = (source: string) => decodeInput(GetSavingsPlansUtilizationOutput, source)

interface Collected {
  readonly rows: Rows
  readonly reservations: ReservationTotals
  readonly savingsPlans: Array<SavingsPlanUse>
  readonly periods: Array<{ readonly Start: string; readonly End: string }>
}

/** Decodes each document into the running rows; each is recognised by its top-level key. */
const collect = (documents: ReadonlyArray<{ readonly source: string; readonly json: unknown }>): Effect.Effect<Collected, InvalidInput> =>
  Effect.gen(function*() {
    const collected: Collected = { rows: { compute: [], zones: [], usageTypes: [], adjustments: [] }, reservations: new Map(), savingsPlans: [], periods: [] }
    for (const { json, source } of documents) {
      if (Predicate.hasProperty(json, "ResultsByTime")) {
        const output = yield* decodeCostAndUsage(source)(json)
        yield* costAndUsageRows(output, source, collected.rows)
        collected.periods.push(...output.ResultsByTime.map((result) => result.TimePeriod))
      } else if (Predicate.hasProperty(json, "UtilizationsByTime")) {
        const output = yield* decodeReservations(source)(json)
        addReservations(output, collected.reservations)
        collected.periods.push(...output.UtilizationsByTime.map((slice) => slice.TimePeriod))
      } else if (Predicate.hasProperty(json, "SavingsPlansUtilizationsByTime")) {
        const output = yield* decodeSavingsPlans(source)(json)
        collected.savingsPlans.push(...savingsPlanRows(output))
        collected.periods.push(...output.SavingsPlansUtilizationsByTime.map((slice) => slice.TimePeriod))
      } else {
        return yield* invalid(
          source,
          "",
          "the JSON printed by `aws ce get-cost-and-usage`, `get-reservation-utilization` or `get-savings-plans-utilization` " +
            "(a ResultsByTime, UtilizationsByTime or SavingsPlansUtilizationsByTime key)"
        )
      }
    }
    return collected
  })

/** Checks that every document decodes (an empty answer is fine): what a live source asks of each query's pages. */
export const checkResponses = (documents: ReadonlyArray<{ readonly source: string; readonly json: unknown }>): Effect.Effect<void, InvalidInput> =>
  Effect.asVoid(collect(documents))

/**
 * Decodes any number of Cost Explorer responses (pages of several queries, in any order) into one
 * `CostData`. Each document is recognised by its top-level key; the period spans every time slice seen.
 */
export const costDataFromResponses = (
  documents: ReadonlyArray<{ readonly source: string; readonly json: unknown }>
): Effect.Effect<CostData, InvalidInput> =>
  Effect.gen(function*() {
    const { periods, reservations, rows, savingsPlans } = yield* collect(documents)
    if (periods.length === 0) return yield* invalid(documents[0]?.source ?? "cost data", "", "at least one Cost Explorer response")
    const start = periods.map((period) => period.Start).reduce((a, b) => (a < b ? a : b))
    const end = periods.map((period) => period.End).reduce((a, b) => (a > b ? a : b))
    return { period: { start, end }, ...rows, reservations: reservationRows(reservations), savingsPlans }
  })
