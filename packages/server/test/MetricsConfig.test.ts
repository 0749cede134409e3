/**
 * The scrape token of `/metrics` in scheduler.yaml (`metrics.tokenEnv`): read from the environment like the others,
 * held apart from them (it authenticates no principal of the API or the dashboard), refused when missing, short or
 * shared, naming the variable and never the value.
 */
import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { decodeServerConfig } from "../src/ServerConfig.ts"

const text = `
teams:
  - { name: research, tokenEnv: FRUGAL_TOKEN_RESEARCH, monthlyBudgetUsd: 50000, maxGpus: 64 }
maxGpus: 96
metrics: { tokenEnv: FRUGAL_METRICS_TOKEN }
`
const decode = (environment: Record<string, string>) => Effect.runPromise(Effect.result(decodeServerConfig(text, "scheduler.yaml", environment)))

describe("the metrics scrape token", () => {
  it("is read from its variable and kept apart from the API's tokens", async () => {
    const result = await decode({ FRUGAL_TOKEN_RESEARCH: "r".repeat(32), FRUGAL_METRICS_TOKEN: "m".repeat(32) })
    if (result._tag !== "Success") throw new Error(result.failure.message)
    expect(result.success.metricsToken === undefined ? undefined : Redacted.value(result.success.metricsToken)).toBe("m".repeat(32))
    expect(result.success.tokens.map((entry) => entry.principal)).toEqual([{ kind: "team", team: "research" }])
  })

  it("is refused when missing, short or another's, naming the variable and never the value", async () => {
    const missing = await decode({ FRUGAL_TOKEN_RESEARCH: "r".repeat(32) })
    if (missing._tag !== "Failure") throw new Error("decoded")
    expect(missing.failure.issues).toEqual([{ path: "FRUGAL_METRICS_TOKEN", expected: "the token of the metrics scrape (set in the environment)" }])
    const shared = await decode({ FRUGAL_TOKEN_RESEARCH: "r".repeat(32), FRUGAL_METRICS_TOKEN: "r".repeat(32) })
    if (shared._tag !== "Failure") throw new Error("decoded")
    expect(shared.failure.issues).toEqual([{ path: "FRUGAL_METRICS_TOKEN", expected: "a token of its own (it equals FRUGAL_TOKEN_RESEARCH)" }])
    expect(shared.failure.message).not.toContain("r".repeat(32))
    const short = await decode({ FRUGAL_TOKEN_RESEARCH: "r".repeat(32), FRUGAL_METRICS_TOKEN: "m".repeat(8) })
    if (short._tag !== "Failure") throw new Error("decoded")
    expect(short.failure.issues[0]?.expected).toBe("a token of at least 16 characters for the metrics scrape")
  })
})
