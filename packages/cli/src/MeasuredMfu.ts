/**
 * `--calibration` / `--no-calibration` of `frugal plan` and `frugal estimate`, and the line saying which MFU a plan
 * used. The calibration itself (the ledger's measured MFU, loaded only when the ledger exists) is the SDK's.
 */
import * as Flag from "effect/cli/Flag"
import { acceleratorByName, estimatePlacement, type Workload } from "@frugal/core"
import { appliedMeasurements, type Calibration, type MeasuredMfu } from "@frugal/sdk"

export const calibrationFlag = Flag.Boolean("calibration").pipe(
  Flag.withDescription("Use the MFU measured by completed runs in the ledger where it has one (--no-calibration: core's defaults)"),
  Flag.withDefault(true)
)

const percent = (value: number): string => `${Math.round(value * 100)}%`

/** Core's MFU for the accelerator and precision, from the first training workload at that precision. */
const defaultMfu = (workloads: ReadonlyArray<Workload>, row: MeasuredMfu): number | null => {
  const spec = acceleratorByName(row.accelerator)
  const workload = workloads.find((w) => w.kind === "training" && w.model.precision === row.precision)
  return spec === undefined || workload === undefined ? null : estimatePlacement(workload, spec, 1).mfu
}

/** The measurements that apply to these workloads (training, same precision), or why none does. */
export const calibrationLines = (calibration: Calibration, workloads: ReadonlyArray<Workload>): ReadonlyArray<string> => {
  const applied = appliedMeasurements(calibration, workloads)
  if (applied.length === 0) {
    const precisions = [...new Set(workloads.flatMap((w) => (w.kind === "training" ? [w.model.precision] : [])))]
    return [`MFU: default MFU per accelerator (${calibration.defaultsBecause ?? `no run measured at ${precisions.join("/") || "this precision"}`}).`]
  }
  return applied.map((row) => {
    const fallback = defaultMfu(workloads, row)
    return `MFU ${percent(row.mfu)} measured on ${row.accelerator} ${row.precision} over ${row.runs} run${row.runs === 1 ? "" : "s"} ` +
      `(ledger; default MFU ${fallback === null ? "n/a" : percent(fallback)}, --no-calibration to use it); other accelerators: default MFU.`
  })
}
