/**
 * `frugal plan` and `frugal estimate` believe the MFU the ledger measured on completed runs over core's
 * default, per accelerator and precision (`--no-calibration` turns it off). The ledger is read only when
 * its file exists, and SQLite is loaded only then: a user who never ran a job plans exactly as fast as
 * before, and `plan` never creates the file.
 */
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { acceleratorByName, decodeWorkloadFile, estimatePlacement, type Workload } from "@frugal/core"
import type { Estimator } from "@frugal/planner"

export const calibrationFlag = Flag.Boolean("calibration").pipe(
  Flag.withDescription("Use the MFU measured by completed runs in the ledger where it has one (--no-calibration: core's defaults)"),
  Flag.withDefault(true)
)

/** One measured accelerator and precision, as the output reports it. */
export interface MeasuredMfu {
  readonly accelerator: string
  readonly precision: string
  readonly mfu: number
  readonly runs: number
}

export interface Calibration {
  /** Why the defaults are used (`--no-calibration`, no ledger, an unreadable ledger); null when measurements apply. */
  readonly defaultsBecause: string | null
  readonly measured: ReadonlyArray<MeasuredMfu>
  readonly estimator: Estimator | undefined
}

/**
 * The ledger file, by the same rule as `@frugal/runner`'s `defaultLedgerPath` (`$FRUGAL_HOME`, else
 * `$XDG_DATA_HOME/frugal`, else `~/.local/share/frugal`); restated here because importing the runner
 * package loads SQLite, which `frugal plan` must not do when there is no ledger.
 */
export const ledgerFile = (env: Readonly<Record<string, string | undefined>>): string => {
  const explicit = env["FRUGAL_HOME"]
  if (explicit !== undefined && explicit !== "") return join(explicit, "ledger.sqlite")
  const xdg = env["XDG_DATA_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".local", "share"), "frugal", "ledger.sqlite")
}

const defaults = (because: string): Calibration => ({ defaultsBecause: because, measured: [], estimator: undefined })

export const loadCalibration = (enabled: boolean): Effect.Effect<Calibration> => {
  if (!enabled) return Effect.succeed(defaults("--no-calibration"))
  const path = ledgerFile(process.env)
  if (!existsSync(path)) return Effect.succeed(defaults("no ledger yet"))
  return Effect.flatMap(
    Effect.promise(() => import("./commands/calibration/LedgerCalibration.ts")),
    (module) => module.ledgerCalibration(path)
  )
}

const percent = (value: number): string => `${Math.round(value * 100)}%`

/** Core's MFU for the accelerator and precision, from the first training workload at that precision. */
const defaultMfu = (workloads: ReadonlyArray<Workload>, row: MeasuredMfu): number | null => {
  const spec = acceleratorByName(row.accelerator)
  const workload = workloads.find((w) => w.kind === "training" && w.model.precision === row.precision)
  return spec === undefined || workload === undefined ? null : estimatePlacement(workload, spec, 1).mfu
}

const trainingPrecisions = (workloads: ReadonlyArray<Workload>): ReadonlySet<string> =>
  new Set(workloads.flatMap((w) => (w.kind === "training" ? [w.model.precision] : [])))

/** The measurements that apply to these workloads (training, same precision), or why none does. */
export const calibrationLines = (calibration: Calibration, workloads: ReadonlyArray<Workload>): ReadonlyArray<string> => {
  const precisions = trainingPrecisions(workloads)
  const applied = calibration.measured.filter((row) => precisions.has(row.precision))
  if (applied.length === 0) {
    return [`MFU: default MFU per accelerator (${calibration.defaultsBecause ?? `no run measured at ${[...precisions].join("/") || "this precision"}`}).`]
  }
  return applied.map((row) => {
    const fallback = defaultMfu(workloads, row)
    return `MFU ${percent(row.mfu)} measured on ${row.accelerator} ${row.precision} over ${row.runs} run${row.runs === 1 ? "" : "s"} ` +
      `(ledger; default MFU ${fallback === null ? "n/a" : percent(fallback)}, --no-calibration to use it); other accelerators: default MFU.`
  })
}

/** The workloads of a spec, decoded only when measurements exist to match them against. */
export const workloadsFor = (calibration: Calibration, text: string, source: string): Effect.Effect<ReadonlyArray<Workload>> =>
  calibration.measured.length === 0
    ? Effect.succeed([])
    : decodeWorkloadFile(text, source).pipe(
      Effect.map((file) => (file.kind === "single" ? [file.workload] : file.workloads)),
      Effect.orElseSucceed((): ReadonlyArray<Workload> => [])
    )

/** For `--json`: the measurements applied, keyed in the output only when there are any. */
export const calibrationJson = (calibration: Calibration, workloads: ReadonlyArray<Workload>): { readonly calibration?: ReadonlyArray<MeasuredMfu> } => {
  const precisions = trainingPrecisions(workloads)
  const applied = calibration.measured.filter((row) => precisions.has(row.precision))
  return applied.length === 0 ? {} : { calibration: applied }
}
