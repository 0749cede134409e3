/**
 * Reads the measured throughput from an existing ledger and turns it into the planner's estimator.
 * Loaded lazily by `Calibration.ts` (this module pulls in SQLite); a ledger that cannot be read leaves
 * the defaults in place with the reason, rather than failing the plan.
 */
import * as Effect from "effect/Effect"
import { calibratedEstimator, Ledger } from "@frugal/runner"
import type { Calibration } from "../Calibration.ts"

export const ledgerCalibration = (path: string): Effect.Effect<Calibration> =>
  Effect.scoped(Effect.gen(function*() {
    const ledger = yield* Ledger
    return yield* ledger.measuredThroughput
  })).pipe(
    Effect.provide(Ledger.layerFile(path)),
    Effect.map((rows): Calibration => {
      const measured = rows.flatMap((row) =>
        row.mfu !== null && row.mfu > 0 ? [{ accelerator: row.accelerator, precision: row.precision, mfu: row.mfu, runs: row.runs }] : []
      )
      return {
        defaultsBecause: measured.length === 0 ? "the ledger has no measured MFU" : null,
        measured,
        estimator: measured.length === 0 ? undefined : calibratedEstimator(rows)
      }
    }),
    Effect.catch((error) =>
      Effect.succeed<Calibration>({ defaultsBecause: `ledger unreadable: ${error.message}`, measured: [], estimator: undefined })
    )
  )
