import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { dailyFactor, decodeRequestTrace, DEFAULT_DAILY_PROFILE, type RequestTrace, tileArrivals } from "../src/index.ts"

const data = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../data/request-traces/AzureLLMInferenceTrace_${name}.csv`, import.meta.url)), "utf8")

const decoded = (text: string, source = "trace.csv"): RequestTrace => Effect.runSync(decodeRequestTrace(text, source))
const failure = (text: string) => {
  const result = Effect.runSync(Effect.result(decodeRequestTrace(text, "bad.csv")))
  if (result._tag === "Success") throw new Error("expected a failure")
  return result.failure
}

describe("request traces", () => {
  it("reads the Azure conversation trace: 19,366 requests over 58 whole minutes, 1,155 / 211 tokens on average", () => {
    const trace = decoded(data("conv"))
    expect(trace.format).toBe("azure")
    expect(trace.requestsPerMinute.length).toBe(58)
    // The last 23 s of the hour are not a whole minute and are left out.
    expect(trace.requests).toBeGreaterThan(19_300)
    expect(trace.requests).toBeLessThanOrEqual(19_366)
    expect(trace.mix?.contextTokens).toBeCloseTo(1154.7, 1)
    expect(trace.mix?.generatedTokens).toBeCloseTo(211.1, 1)
  })

  it("reads the Azure coding trace's mix: long prompts, short answers", () => {
    const trace = decoded(data("code"))
    expect(trace.mix?.contextTokens).toBeCloseTo(2047.8, 0)
    expect(trace.mix?.generatedTokens).toBeCloseTo(27.9, 0)
  })

  it("bins requests into whole minutes from the first request", () => {
    const trace = decoded("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:30,10,1\n2023-11-16 18:01:00,10,3\n2023-11-16 18:01:31,10,5\n2023-11-16 18:03:00,10,7\n")
    // 18:00:30–18:01:30 holds two, 18:01:30–18:02:30 one; 18:03:00 starts a minute the recording did not finish.
    expect(Array.from(trace.requestsPerMinute)).toEqual([2, 1])
    expect(trace.requests).toBe(3)
    expect(trace.mix).toEqual({ contextTokens: 10, generatedTokens: 4 })
  })

  it("reads per-minute counts, with missing minutes as no requests and optional token columns", () => {
    const trace = decoded("minute,requests\n0,5\n1,7\n3,2\n")
    expect(Array.from(trace.requestsPerMinute)).toEqual([5, 7, 0, 2])
    expect(trace.mix).toBeNull()
    const mixed = decoded("minute,requests,contextTokens,generatedTokens\n0,1,100,10\n1,3,200,30\n")
    expect(mixed.mix).toEqual({ contextTokens: 175, generatedTokens: 25 })
  })

  it("names the line and the column of each bad cell, as the file spells it", () => {
    const error = failure("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00,abc,3\nyesterday,4,-1\n")
    expect(error.issues).toEqual([
      { path: "line 2.ContextTokens", expected: "a whole number of tokens, 0 or more", actual: "\"abc\"" },
      { path: "line 3.TIMESTAMP", expected: "a date-time like 2023-11-16 18:17:03.97 (UTC when no zone is given)", actual: "\"yesterday\"" },
      { path: "line 3.GeneratedTokens", expected: "a whole number of tokens, 0 or more", actual: "\"-1\"" }
    ])
  })

  it("refuses minutes out of order, a header it does not know, and a trace without requests", () => {
    expect(failure("minute,requests\n0,5\n2,7\n1,3\n").issues[0]).toEqual({
      path: "line 4.minute",
      expected: "a minute after the previous row's (2)",
      actual: "1"
    })
    expect(failure("time,count\n1,2\n").issues[0]?.path).toBe("line 1")
    expect(failure("minute,requests\n0,0\n").issues[0]?.path).toBe("requests")
  })
})

describe("the daily profile and tiling", () => {
  it("peaks at 1 at the peak hour and bottoms at the trough share twelve hours away", () => {
    expect(dailyFactor(DEFAULT_DAILY_PROFILE, 18.75 * 60)).toBeCloseTo(1, 12)
    expect(dailyFactor(DEFAULT_DAILY_PROFILE, 6.75 * 60)).toBeCloseTo(0.3, 12)
    expect(dailyFactor(DEFAULT_DAILY_PROFILE, 12.75 * 60)).toBeCloseTo(0.65, 12)
  })

  it("repeats the recorded minutes, scaled by the profile and the rate scale", () => {
    const trace = decoded("minute,requests\n0,10\n1,20\n")
    const flat = { peakHourUtc: 0, troughShare: 1 }
    expect(Array.from(tileArrivals(trace, { minutes: 5, rateScale: 2, profile: flat }))).toEqual([20, 40, 20, 40, 20])
    const week = tileArrivals(trace, { minutes: 7 * 1440, rateScale: 1, profile: DEFAULT_DAILY_PROFILE })
    expect(week.length).toBe(10_080)
    expect(week[18 * 60 + 45]).toBeCloseTo(20 * dailyFactor(DEFAULT_DAILY_PROFILE, 18 * 60 + 45.5), 9)
  })
})
