/**
 * What SDK users may pass as a workload: the spec text (YAML or JSON, as in a workload file) or a
 * plain object shaped like one (a workload, or `{ workloads: [...] }`). Both go through the same
 * decoder as `frugal plan FILE`, so a mistake gets the same `InvalidInput` with the same field paths.
 */
import * as Effect from "effect/Effect"
import { decodeWorkloadFile, InvalidInput, type WorkloadFile } from "@frugal/core"

export type WorkloadInput = string | object

export const decodeWorkloadInput = (
  input: WorkloadInput,
  source = "workload"
): Effect.Effect<WorkloadFile, InvalidInput> => {
  if (typeof input === "string") return decodeWorkloadFile(input, source)
  // JSON is YAML 1.2, so one decoder serves both forms. An object JSON cannot hold (a cycle, a
  // BigInt) is refused here rather than half-decoded.
  let text: string | undefined
  try {
    text = JSON.stringify(input)
  } catch (error) {
    return Effect.fail(
      new InvalidInput({
        source,
        issues: [{ path: "", expected: "a plain object (JSON-serialisable)", actual: error instanceof Error ? error.message : String(error) }]
      })
    )
  }
  if (text === undefined) {
    return Effect.fail(new InvalidInput({ source, issues: [{ path: "", expected: "a workload object or spec text", actual: typeof input }] }))
  }
  return decodeWorkloadFile(text, source)
}
