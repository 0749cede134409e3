import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { InvalidInput } from "@frugal/core"
import { decodeTraceCsv, decodeTraceFiles, decodeTraceJson } from "../../src/index.ts"
import { FEB_2023, loadTraces, OCT_2022 } from "./Traces.ts"

const failure = <A>(effect: Effect.Effect<A, InvalidInput>): InvalidInput => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = Exit.findErrorOption(exit)
  if (error._tag === "None") throw new Error("expected an InvalidInput")
  return error.value
}

describe("trace files", () => {
  it("reads the spot-traces JSON with 1 meaning available", () => {
    const trace = Effect.runSync(decodeTraceJson('{"metadata":{"gap_seconds":600},"data":[1,0,1,1]}', "dir/us-west-2a_v100_1.json"))
    expect(trace.name).toBe("us-west-2a_v100_1")
    expect(trace.tickHours).toBeCloseTo(1 / 6, 12)
    expect([...trace.available]).toEqual([1, 0, 1, 1])
    expect(trace.spotPriceUsdPerHour).toBeNull()
  })

  it("names the tick of a value that is neither 0 nor 1", () => {
    const error = failure(decodeTraceJson('{"metadata":{"gap_seconds":600},"data":[1,0,2,1]}', "t.json"))
    expect(error.source).toBe("t.json")
    expect(error.issues[0]?.path).toBe("data[2]")
    expect(error.issues[0]?.expected).toContain("0 (no spot) or 1")
  })

  it("reads a CSV timestamp,available,price and takes the median step as the tick", () => {
    const csv = "timestamp,available,price\n2023-02-15 22:08:16,1,0.9\n2023-02-15 22:11:31,0,0.95\n2023-02-15 22:14:46,1,0.91\n"
    const trace = Effect.runSync(decodeTraceCsv(csv, "zone.csv"))
    expect(trace.tickHours).toBeCloseTo(195 / 3600, 12)
    expect([...trace.available]).toEqual([1, 0, 1])
    expect([...(trace.spotPriceUsdPerHour ?? [])]).toEqual([0.9, 0.95, 0.91])
  })

  it("names the line and field of a bad CSV value", () => {
    const csv = "timestamp,available\n2023-02-15 22:08:16,1\n2023-02-15 22:11:31,yes\nnot a time,0\n"
    const error = failure(decodeTraceCsv(csv, "zone.csv"))
    expect(error.issues.map((issue) => issue.path)).toEqual(["line 3.available", "line 4.timestamp"])
    expect(error.message).toContain("line 3.available: expected 0 (no spot) or 1 (spot available), got yes")
  })

  it("rejects a CSV without the timestamp and available columns", () => {
    const error = failure(decodeTraceCsv("a,b\n1,2\n3,4\n", "x.csv"))
    expect(error.issues[0]?.path).toBe("line 1")
  })

  it("attaches a price map's per-tick prices to the traces of the same name", () => {
    const traces = Effect.runSync(decodeTraceFiles([
      { path: "d/z_v100_1.json", text: '{"metadata":{"gap_seconds":60},"data":[1,1,0]}' },
      { path: "d/v100_spot_prices.json", text: '{"z_v100_1":[1.5,1.25,1]}' }
    ]))
    expect(traces).toHaveLength(1)
    expect([...(traces[0]?.spotPriceUsdPerHour ?? [])]).toEqual([1.5, 1.25, 1])
  })

  it("loads the committed traces: 8 from 2022-10-26, 9 priced ones from 2023-02-15", () => {
    const october = loadTraces(OCT_2022)
    const february = loadTraces(FEB_2023)
    expect(october.map((t) => t.available.length)).toEqual(Array(8).fill(3895))
    expect(february).toHaveLength(9)
    expect(february.every((t) => t.spotPriceUsdPerHour?.length === 20158)).toBe(true)
    // The published availability of us-west-2a_v100_1 (README of the trace set): 79.3 %.
    const v100 = october.find((t) => t.name === "us-west-2a_v100_1")
    const share = (v100?.available.reduce((sum, bit) => sum + bit, 0) ?? 0) / 3895
    expect(share).toBeCloseTo(0.793, 3)
  })
})
