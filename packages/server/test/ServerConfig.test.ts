import { Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { makeAuthenticator } from "../src/Auth.ts"
import { decodeServerConfig } from "../src/ServerConfig.ts"

const text = `
teams:
  - { name: research, tokenEnv: FRUGAL_TOKEN_RESEARCH, monthlyBudgetUsd: 50000, maxGpus: 64 }
  - { name: product, tokenEnv: FRUGAL_TOKEN_PRODUCT, monthlyBudgetUsd: 20000, maxGpus: 32 }
maxGpus: 96
admins: { tokenEnv: FRUGAL_ADMIN_TOKEN }
commitments:
  - { kind: reserved, instanceType: p4d.24xlarge, region: us-east-1, count: 2, hourlyPriceUsd: 19.22 }
`
const env = { FRUGAL_TOKEN_RESEARCH: "r".repeat(32), FRUGAL_TOKEN_PRODUCT: "p".repeat(32), FRUGAL_ADMIN_TOKEN: "a".repeat(32) }

const decode = (body: string, environment: Record<string, string> = env) => Effect.runPromise(Effect.result(decodeServerConfig(body, "scheduler.yaml", environment)))

describe("scheduler.yaml", () => {
  it("decodes ARCHITECTURE.md's example with the defaults for aging, preemption and the pass interval", async () => {
    const result = await decode(text)
    if (result._tag !== "Success") throw new Error(result.failure.message)
    const config = result.success
    expect(config.policy).toEqual({
      teams: [{ name: "research", monthlyBudgetUsd: 50000, maxGpus: 64 }, { name: "product", monthlyBudgetUsd: 20000, maxGpus: 32 }],
      maxGpus: 96,
      agingPointsPerHour: 1,
      preemption: { enabled: true, minPriorityGap: 10 },
      commitments: [{ kind: "reserved", instanceType: "p4d.24xlarge", region: "us-east-1", count: 2, hourlyPriceUsd: 19.22 }]
    })
    expect(config.passEveryMillis).toBe(30_000)
    expect(config.maxBodyBytes).toBe(1024 * 1024)
    expect(config.tokens.map((t) => t.principal)).toEqual([{ kind: "team", team: "research" }, { kind: "team", team: "product" }, { kind: "admin" }])
  })

  it("names each bad field: a team name, a budget, an unknown key, a repeated team", async () => {
    const result = await decode(`
teams:
  - { name: Research!, tokenEnv: A_TOKEN, monthlyBudgetUsd: -5, maxGpus: 1.5 }
  - { name: b, tokenEnv: B_TOKEN, monthlyBudgetUsd: 1, maxGpus: 1, colour: red }
maxGpus: 8
`)
    if (result._tag !== "Failure") throw new Error("decoded")
    expect(result.failure.issues.map((issue) => issue.path)).toEqual(["teams[0].name", "teams[0].monthlyBudgetUsd", "teams[0].maxGpus", "teams[1].colour"])
    const repeated = await decode("teams:\n  - { name: a, tokenEnv: T, monthlyBudgetUsd: 1, maxGpus: 1 }\n  - { name: a, tokenEnv: U, monthlyBudgetUsd: 1, maxGpus: 1 }\nmaxGpus: 1\n")
    if (repeated._tag !== "Failure") throw new Error("decoded")
    expect(repeated.failure.issues[0]?.path).toBe("teams[1].name")
  })

  it("refuses a missing, short or shared token, naming the variable and never its value", async () => {
    const result = await decode(text, { FRUGAL_TOKEN_RESEARCH: "short", FRUGAL_TOKEN_PRODUCT: "p".repeat(32), FRUGAL_ADMIN_TOKEN: "p".repeat(32) })
    if (result._tag !== "Failure") throw new Error("decoded")
    expect(result.failure.source).toBe("environment")
    expect(result.failure.issues).toEqual([
      { path: "FRUGAL_TOKEN_RESEARCH", expected: "a token of at least 16 characters for team research", actual: "5 characters" },
      { path: "FRUGAL_ADMIN_TOKEN", expected: "a token of its own (it equals FRUGAL_TOKEN_PRODUCT)" }
    ])
    expect(result.failure.message).not.toContain("p".repeat(32))
    const missing = await decode(text, { FRUGAL_TOKEN_RESEARCH: "r".repeat(32), FRUGAL_ADMIN_TOKEN: "a".repeat(32) })
    if (missing._tag !== "Failure") throw new Error("decoded")
    expect(missing.failure.issues).toEqual([{ path: "FRUGAL_TOKEN_PRODUCT", expected: "the token of team product (set in the environment)" }])
  })
})

describe("bearer tokens", () => {
  const auth = makeAuthenticator([
    { token: Redacted.make("r".repeat(32)), principal: { kind: "team", team: "research" } },
    { token: Redacted.make("a".repeat(32)), principal: { kind: "admin" } }
  ])

  it("accepts only a whole configured token after Bearer", () => {
    expect(auth.authenticate(`Bearer ${"r".repeat(32)}`)).toEqual({ kind: "team", team: "research" })
    expect(auth.authenticate(`bearer ${"a".repeat(32)}`)).toEqual({ kind: "admin" })
    expect(auth.authenticate(undefined)).toBeNull()
    expect(auth.authenticate("Bearer ")).toBeNull()
    expect(auth.authenticate(`Bearer ${"r".repeat(31)}`)).toBeNull()
    expect(auth.authenticate(`Bearer ${"r".repeat(33)}`)).toBeNull()
    expect(auth.authenticate(`Token ${"r".repeat(32)}`)).toBeNull()
    expect(auth.authenticate(`Bearer ${"r".repeat(32)} extra`)).toBeNull()
  })
})
