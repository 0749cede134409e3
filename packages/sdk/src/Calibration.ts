/**
 * Plans and estimates believe the MFU the ledger measured on completed runs over core's default, per accelerator
 * and precision (the CLI's `--no-calibration` turns it off). The ledger is read only when its file exists, and
 * SQLite is loaded only then: a user who never ran a job plans exactly as fast as before, and planning never
 * creates the file.
 */
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import type { Workload } from "@frugal/core"
import type { Estimator } from "@frugal/planner"
import type { Environment } from "./Catalogs.ts"
import { decodeWorkloadInput, type WorkloadInput } from "./WorkloadInput.ts"

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
 * package loads SQLite, which planning must not do when there is no ledger.
 */
export const ledgerFile = (env: Environment): string => {
  const explicit = env["FRUGAL_HOME"]
  if (explicit !== undefined && explicit !== "") return join(explicit, "ledger.sqlite")
  const xdg = env["XDG_DATA_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".local", "share"), "frugal", "ledger.sqlite")
}

const defaults = (because: string): Calibration => ({ defaultsBecause: because, measured: [], estimator: undefined })

/** The calibration to plan with: the ledger's measurements when `enabled` and the ledger exists, else the defaults and why. */
export const loadCalibration = (enabled: boolean, env: Environment): Effect.Effect<Calibration> => {
  if (!enabled) return Effect.succeed(defaults("--no-calibration"))
  const path = ledgerFile(env)
  if (!existsSync(path)) return Effect.succeed(defaults("no ledger yet"))
  return Effect.flatMap(
    Effect.promise(() => import("./calibration/LedgerCalibration.ts")),
    (module) => module.ledgerCalibration(path)
  )
}

const trainingPrecisions = (workloads: ReadonlyArray<Workload>): ReadonlySet<string> =>
  new Set(workloads.flatMap((w) => (w.kind === "training" ? [w.model.precision] : [])))

/** The measurements that apply to these workloads: training, at a precision one of them uses. */
export const appliedMeasurements = (calibration: Calibration, workloads: ReadonlyArray<Workload>): ReadonlyArray<MeasuredMfu> => {
  const precisions = trainingPrecisions(workloads)
  return calibration.measured.filter((row) => precisions.has(row.precision))
}

/** The workloads of a spec, decoded only when measurements exist to match them against. */
export const workloadsFor = (calibration: Calibration, input: WorkloadInput, source: string): Effect.Effect<ReadonlyArray<Workload>> =>
  calibration.measured.length === 0
    ? Effect.succeed([])
    : decodeWorkloadInput(input, source).pipe(
      Effect.map((file) => (file.kind === "single" ? [file.workload] : file.workloads)),
      Effect.orElseSucceed((): ReadonlyArray<Workload> => [])
    )

/** For `--json`: the measurements applied, keyed in the output only when there are any. */
export const calibrationJson = (calibration: Calibration, workloads: ReadonlyArray<Workload>): { readonly calibration?: ReadonlyArray<MeasuredMfu> } => {
  const applied = appliedMeasurements(calibration, workloads)
  return applied.length === 0 ? {} : { calibration: applied }
}
