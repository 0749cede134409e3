import { describe, expect, it } from "vitest"
import { InvalidInput } from "@frugal/core"
import { asFlagError, flagOf } from "../src/FieldFlags.ts"

describe("asFlagError", () => {
  it("names SDK fields as the flags a user typed, in paths, the source and the expected text", () => {
    const error = new InvalidInput({
      source: "computeHours, deadlineHours",
      issues: [
        { path: "computeHours", expected: "a number above 0", actual: "0" },
        { path: "deadlineHours", expected: "at least computeHours + restartHours (12)", actual: "5" }
      ]
    })
    const named = asFlagError(error, ["computeHours", "deadlineHours", "restartHours"])
    expect(named.source).toBe("--compute-hours, --deadline-hours")
    expect(named.issues).toEqual([
      { path: "--compute-hours", expected: "a number above 0", actual: "0" },
      { path: "--deadline-hours", expected: "at least --compute-hours + --restart-hours (12)", actual: "5" }
    ])
  })

  it("keeps a file's path and plain words that happen to be field names", () => {
    const error = new InvalidInput({ source: "trace", issues: [{ path: "/data/trace.json", expected: "a regular file with the spot trace (JSON or CSV)", actual: "a FIFO" }] })
    const named = asFlagError(error, ["trace"])
    expect(named.source).toBe("--trace")
    expect(named.issues[0]).toEqual({ path: "/data/trace.json", expected: "a regular file with the spot trace (JSON or CSV)", actual: "a FIFO" })
  })

  it("uses a flag's own name where it is not the kebab-case of the field", () => {
    expect(flagOf("policies", { policies: "--policy" })).toBe("--policy")
    expect(flagOf("spotHistoryHours")).toBe("--spot-history-hours")
  })
})
