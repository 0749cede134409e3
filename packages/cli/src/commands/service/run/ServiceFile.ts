/** The workload file every service subcommand reads, and the SDK's field names as this command's flags. */
import * as Effect from "effect/Effect"
import type { InvalidInput } from "@frugal/core"
import { withFlagNames } from "../../../FieldFlags.ts"
import { readWorkloadText } from "../../../WorkloadInput.ts"

/** The spec text of FILE (`-`: standard input) and the name errors give it. */
export const serviceFile = (file: string): Effect.Effect<{ readonly text: string; readonly source: string }, InvalidInput> =>
  Effect.map(readWorkloadText(file), (text) => ({ text, source: file === "-" ? "stdin" : file }))

/** The request fields of the service operations, named as their flags (`spotTraces` → `--spot-traces`). */
export const serviceFlagNames = withFlagNames([
  "requests",
  "spotTraces",
  "policies",
  "rateScale",
  "days",
  "startHour",
  "dailyTrough",
  "peakHourUtc",
  "baselineOnDemandBase"
])
