/**
 * Generates the example Cost Explorer and CloudWatch responses in this folder: one week (Monday
 * 2026-11-02 to Monday 2026-11-09) of a small GPU fleet in us-east-1, priced at the embedded catalog's
 * on-demand, spot and modelled reserved rates, printed exactly as the AWS CLI prints the API responses.
 *
 *   pnpm exec node examples/waste/generate.ts        # rewrite the files
 *
 * The fleet: two g5.12xlarge serving around the clock (one idle 00:00-06:00 UTC every night), a
 * p4d.24xlarge training on demand Monday to Wednesday then on spot Thursday and Friday, a g6e.xlarge
 * whose L40S runs at about a third of its capacity with 9 GiB of 45 GiB used, one g4dn.12xlarge
 * reservation idle at weekends, and a dataset read across regions (us-east-1 → us-west-2) on two days.
 */
import { writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08"]
const END = "2026-11-09"
const next = (day: string): string => DAYS[DAYS.indexOf(day) + 1] ?? END
const amount = (value: number): string => String(Math.round(value * 1e8) / 1e8)

// us-east-1 prices from the embedded catalog (SkyPilot snapshot; reserved rate modelled, 1-year no upfront).
const G5_ON_DEMAND = 5.672
const P4D_ON_DEMAND = 21.957642
const P4D_SPOT_USE1_AZ2 = 6.5323
const G6E_ON_DEMAND = 1.861
const G4DN_RESERVED = 2.5037
const TRANSFER_PER_GB = 0.02
const INTER_AZ_PER_GB = 0.01

type Row = readonly [keys: ReadonlyArray<string>, cost: number, quantity: number]

const rowsByDay = (day: string): { byType: Array<Row>; byZone: Array<Row>; usage: Array<Row> } => {
  const weekday = DAYS.indexOf(day) < 5
  const byType: Array<Row> = [[["g5.12xlarge", "On Demand Instances"], 48 * G5_ON_DEMAND, 48]]
  const byZone: Array<Row> = [
    [["us-east-1a", "g5.12xlarge"], 24 * G5_ON_DEMAND, 24],
    [["us-east-1b", "g5.12xlarge"], 24 * G5_ON_DEMAND, 24]
  ]
  if (DAYS.indexOf(day) < 3) {
    byType.push([["p4d.24xlarge", "On Demand Instances"], 24 * P4D_ON_DEMAND, 24])
    byZone.push([["us-east-1c", "p4d.24xlarge"], 24 * P4D_ON_DEMAND, 24])
  } else if (weekday) {
    byType.push([["p4d.24xlarge", "Spot Instances"], 24 * P4D_SPOT_USE1_AZ2, 24])
    byZone.push([["us-east-1c", "p4d.24xlarge"], 24 * P4D_SPOT_USE1_AZ2, 24])
  }
  byType.push([["g6e.xlarge", "On Demand Instances"], 24 * G6E_ON_DEMAND, 24])
  byZone.push([["us-east-1a", "g6e.xlarge"], 24 * G6E_ON_DEMAND, 24])
  // The reservation's amortised fee is charged every hour, used or not.
  byType.push([["g4dn.12xlarge", "Standard Reserved Instances"], 24 * G4DN_RESERVED, weekday ? 24 : 0])
  byZone.push([["us-east-1d", "g4dn.12xlarge"], 24 * G4DN_RESERVED, weekday ? 24 : 0])
  const usage: Array<Row> = [[["USE1-DataTransfer-Regional-Bytes"], 300 * INTER_AZ_PER_GB, 300]]
  if (DAYS.indexOf(day) < 2) usage.push([["USE1-USW2-AWS-Out-Bytes"], 1500 * TRANSFER_PER_GB, 1500])
  return { byType: byType.sort((a, b) => (a[0][0] ?? "").localeCompare(b[0][0] ?? "")), byZone, usage }
}

const costAndUsage = (keys: ReadonlyArray<string>, pick: (day: string) => Array<Row>) => ({
  GroupDefinitions: keys.map((key) => ({ Type: "DIMENSION", Key: key })),
  ResultsByTime: DAYS.map((day) => ({
    TimePeriod: { Start: day, End: next(day) },
    Total: {},
    Groups: pick(day).map(([groupKeys, cost, quantity]) => ({
      Keys: groupKeys,
      Metrics: {
        AmortizedCost: { Amount: amount(cost), Unit: "USD" },
        UsageQuantity: { Amount: amount(quantity), Unit: "N/A" }
      }
    })),
    Estimated: false
  })),
  DimensionValueAttributes: []
})

const reservationUtilization = () => {
  const day = (used: number) => ({
    UtilizationPercentage: amount(100 * used / 24),
    PurchasedHours: "24",
    TotalActualHours: amount(used),
    UnusedHours: amount(24 - used),
    OnDemandCostOfRIHoursUsed: amount(used * 3.912),
    NetRISavings: amount(used * 3.912 - 24 * G4DN_RESERVED),
    TotalPotentialRISavings: amount(24 * (3.912 - G4DN_RESERVED)),
    AmortizedUpfrontFee: "0",
    AmortizedRecurringFee: amount(24 * G4DN_RESERVED),
    TotalAmortizedFee: amount(24 * G4DN_RESERVED)
  })
  return {
    UtilizationsByTime: DAYS.map((date, index) => ({
      TimePeriod: { Start: date, End: next(date) },
      Groups: [{
        Key: "SUBSCRIPTION_ID",
        Value: "4f2b8c1e-0d3a-4b7e-9c61-5a8e2d7f3b10",
        Attributes: { instanceType: "g4dn.12xlarge", region: "us-east-1", platform: "Linux/UNIX", tenancy: "Default" },
        Utilization: day(index < 5 ? 24 : 0)
      }],
      Total: day(index < 5 ? 24 : 0)
    })),
    Total: {
      UtilizationPercentage: amount(100 * 120 / 168),
      PurchasedHours: "168",
      TotalActualHours: "120",
      UnusedHours: "48",
      TotalAmortizedFee: amount(168 * G4DN_RESERVED)
    }
  }
}

/** Deterministic load shape: busier in US daytime (14:00-02:00 UTC). */
const load = (hour: number, base: number, swing: number): number =>
  Math.round((base + swing * Math.sin(((hour % 24) - 8) / 24 * 2 * Math.PI)) * 10) / 10

const gpuSeries = () => {
  const hours = Array.from({ length: 168 }, (_, hour) => hour)
  const time = (hour: number) => new Date(Date.parse("2026-11-02T00:00:00Z") + hour * 3_600_000).toISOString().replace(".000Z", "+00:00")
  const gpus: Array<{ id: string; type: string; index: number; util: (hour: number) => number; memory: (hour: number) => number }> = []
  for (let index = 0; index < 4; index++) {
    gpus.push({ id: "i-0a1c2e3f4a5b6c7d8", type: "g5.12xlarge", index, util: (h) => load(h + index, 62, 20), memory: () => 17_800 + 150 * index })
  }
  for (let index = 0; index < 4; index++) {
    gpus.push({
      id: "i-0b2d4f6a8c0e1a3b5",
      type: "g5.12xlarge",
      index,
      util: (h) => (h % 24 < 6 ? 2 + (index % 2) : load(h + index, 58, 20)),
      memory: () => 17_600 + 120 * index
    })
  }
  gpus.push({ id: "i-0e6f7a8b9c0d1e2f3", type: "g6e.xlarge", index: 0, util: (h) => load(h, 36, 5), memory: (h) => 8_900 + 40 * (h % 8) })
  // The CLI prints newest first unless --scan-by TimestampAscending is given.
  const newestFirst = [...hours].reverse()
  return {
    MetricDataResults: gpus.flatMap((gpu) => [
      {
        Id: "utilization",
        Label: `${gpu.id} ${gpu.type} ${gpu.index} nvidia_smi_utilization_gpu`,
        Timestamps: newestFirst.map(time),
        Values: newestFirst.map(gpu.util),
        StatusCode: "Complete"
      },
      {
        Id: "memory",
        Label: `${gpu.id} ${gpu.type} ${gpu.index} nvidia_smi_memory_used`,
        Timestamps: newestFirst.map(time),
        Values: newestFirst.map(gpu.memory),
        StatusCode: "Complete"
      }
    ]),
    Messages: []
  }
}

/** The queries the live source sends (see UtilizationSource.gpuMetricQueries), for `--metric-data-queries`. */
const metricQueries = ["nvidia_smi_utilization_gpu", "nvidia_smi_memory_used"].map((metric, index) => ({
  Id: index === 0 ? "utilization" : "memory",
  Expression: `SEARCH('Namespace="CWAgent" MetricName="${metric}"', 'Average', 3600)`,
  Label: "${PROP('Dim.InstanceId')} ${PROP('Dim.InstanceType')} ${PROP('Dim.index')} ${PROP('MetricName')}",
  ReturnData: true
}))

// The AWS CLI prints JSON with four-space indentation.
const print = (value: unknown): string => `${JSON.stringify(value, null, 4)}\n`

export const exampleFiles = (): Record<string, string> => ({
  "cost-explorer/cost-by-instance-type.json": print(costAndUsage(["INSTANCE_TYPE", "PURCHASE_TYPE"], (day) => rowsByDay(day).byType)),
  "cost-explorer/cost-by-zone.json": print(costAndUsage(["AZ", "INSTANCE_TYPE"], (day) => rowsByDay(day).byZone)),
  "cost-explorer/data-transfer.json": print(costAndUsage(["USAGE_TYPE"], (day) => rowsByDay(day).usage)),
  "cost-explorer/reservation-utilization.json": print(reservationUtilization()),
  "gpu-utilization.json": print(gpuSeries()),
  "metric-queries.json": print(metricQueries)
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const [name, content] of Object.entries(exampleFiles())) writeFileSync(join(here, name), content)
}
