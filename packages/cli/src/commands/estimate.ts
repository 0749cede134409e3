/**
 * `frugal estimate FILE [--json]`: memory, FLOPs and time per accelerator, before any price.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { calibratedJson, estimateCalibrated, type EstimateReport } from "@frugal/sdk"
import { gib, hours, percent, scientific } from "../Format.ts"
import { environment } from "../Environment.ts"
import { calibrationFlag, calibrationLines } from "../MeasuredMfu.ts"
import { renderTable } from "../Table.ts"
import { readWorkloadText } from "../WorkloadInput.ts"

const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec (YAML or JSON; one workload or workloads: [...]); - reads standard input"),
  Argument.withMetavar("FILE")
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON instead of a table"), Flag.withDefault(false))

const memoryLine = (report: EstimateReport): ReadonlyArray<string> => {
  const m = report.memory
  const parts: ReadonlyArray<readonly [string, number]> = [
    ["weights", m.weightsGiB],
    ["gradients", m.gradientsGiB],
    ["optimizer", m.optimizerGiB],
    ["activations", m.activationsGiB],
    ["logits", m.logitsGiB],
    ["KV cache", m.kvCacheGiB],
    ["overhead", m.overheadGiB]
  ]
  return [
    `Memory: ${gib(m.perGpuGiB)} per GPU on ${m.gpus} × ${m.accelerator}${m.gpus > 1 ? ` (${m.sharding}), ${gib(m.totalGiB)} in total` : ""}`,
    `  ${parts.filter(([, value]) => value >= 0.05).map(([name, value]) => `${name} ${gib(value)}`).join(" · ")}`
  ]
}

export const estimateText = (report: EstimateReport): ReadonlyArray<string> => {
  const rows = Object.entries(report.compute.byAccelerator)
  const timeHeader = report.kind === "inference" ? "HOURS/MONTH" : "HOURS"
  return [
    `${report.workload}: ${report.kind}`,
    ...memoryLine(report),
    ...(report.compute.flops === null ? [] : [`Compute: ${scientific(report.compute.flops)} FLOPs`]),
    "",
    ...(rows.length === 0
      ? ["No accelerator can run this workload."]
      : renderTable(
        [
          { header: "ACCELERATOR" },
          { header: "GPUS", align: "right" },
          { header: "SHARDING" },
          { header: "MEMORY/GPU", align: "right" },
          { header: "TOKENS/S/GPU", align: "right" },
          { header: "MFU", align: "right" },
          { header: timeHeader, align: "right" }
        ],
        rows.map(([name, row]) => [
          name,
          `${row.gpus}`,
          row.sharding,
          gib(row.perGpuGiB),
          row.tokensPerSecondPerGpu === null ? "—" : Math.round(row.tokensPerSecondPerGpu).toLocaleString("en-US"),
          row.mfu === null ? "—" : percent(row.mfu),
          hours(row.hours)
        ])
      )),
    ...(report.compute.unsuitable.length === 0 ? [] : ["", `Cannot run it: ${report.compute.unsuitable.join(", ")}`])
  ]
}

export const estimate = Command.make(
  "estimate",
  { file, json, calibration: calibrationFlag },
  Effect.fnUntraced(function*(input) {
    const text = yield* readWorkloadText(input.file)
    const source = input.file === "-" ? "stdin" : input.file
    const estimated = yield* estimateCalibrated(text, { calibration: input.calibration, source, env: environment })
    const { result, calibration, workloads } = estimated
    if (input.json) return yield* Console.log(JSON.stringify(calibratedJson(estimated), null, 2))
    const reports = "workloads" in result ? result.workloads : [result]
    yield* Console.log(
      [reports.map((report) => estimateText(report).join("\n")).join("\n\n"), "", ...calibrationLines(calibration, workloads)].join("\n")
    )
  })
).pipe(
  Command.withDescription("Estimate memory, FLOPs and hours per accelerator for a workload, before prices"),
  Command.withExamples([{ command: "frugal estimate examples/llama-7b-finetune.yaml", description: "Where a 7B fine-tune fits" }])
)
