/**
 * `scheduler.yaml` (`frugal server --config`): the teams with their budgets, GPU limits and the environment
 * variables that hold their tokens, the global GPU limit, the admins' token, and the scheduling knobs. Decoded with
 * one Schema (every bad field named, exit 2); the tokens are read from the environment here, once, held
 * `Redacted`, and refused when missing, shorter than 16 characters or shared by two principals.
 */
import { Bounded, expecting, type InputIssue, InvalidInput, looksBinary, parseText, showValue, strictParseOptions, inputIssuesFromSchemaIssue, withDefault } from "@frugal/core"
import type { SchedulerPolicy } from "@frugal/scheduler"
import { TEAM_NAME } from "@frugal/scheduler/api"
import { Effect, Exit, Redacted, Schema } from "effect"

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const EnvName = expecting(Schema.String.check(Schema.isPattern(ENV_NAME)), "the name of an environment variable holding the token")
const TeamNameField = expecting(Schema.String.check(Schema.isPattern(TEAM_NAME)), "a team name of a-z, 0-9 and '-' (at most 63)")
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/

const Team = Schema.Struct({
  name: TeamNameField,
  tokenEnv: EnvName,
  monthlyBudgetUsd: Bounded({ min: 0, max: 1e9, unit: "US dollars per month" }),
  maxGpus: Bounded({ min: 0, max: 1_000_000, integer: true, unit: "GPUs" })
})

const Reservation = Schema.Struct({
  kind: Schema.Literal("reserved"),
  instanceType: expecting(Schema.String.check(Schema.isPattern(INSTANCE_TYPE)), "an EC2 instance type like p4d.24xlarge"),
  region: expecting(Schema.String.check(Schema.isPattern(REGION)), "an AWS region code like us-east-1"),
  count: Bounded({ min: 1, max: 100_000, integer: true, unit: "instances" }),
  hourlyPriceUsd: Bounded({ min: 0, max: 100_000, unit: "USD per instance-hour (the reservation's effective rate)" })
})

const SavingsPlan = Schema.Struct({
  kind: Schema.Literal("savings-plan"),
  commitmentUsdPerHour: Bounded({ min: 0, minExclusive: true, max: 1e7, unit: "USD per hour" }),
  discount: Bounded({ min: 0, max: 0.99, unit: "fraction off on-demand" })
})

export const SchedulerConfigFile = Schema.Struct({
  teams: expecting(Schema.NonEmptyArray(Team), "a list of teams, each { name, tokenEnv, monthlyBudgetUsd, maxGpus }"),
  maxGpus: Bounded({ min: 0, max: 10_000_000, integer: true, unit: "GPUs" }),
  admins: Schema.optionalKey(Schema.Struct({ tokenEnv: EnvName })),
  /** A token that opens `/metrics` only (for Prometheus); the admins' token opens it too. */
  metrics: Schema.optionalKey(Schema.Struct({ tokenEnv: EnvName })),
  aging: withDefault(Schema.Struct({ pointsPerHour: withDefault(Bounded({ min: 0, max: 1e6, unit: "priority points per hour waited" }), 1) }), {}),
  preemption: withDefault(
    Schema.Struct({
      enabled: withDefault(expecting(Schema.Boolean, "true or false"), true),
      minPriorityGap: withDefault(Bounded({ min: 1, max: 2000, integer: true, unit: "priority points" }), 10)
    }),
    {}
  ),
  commitments: withDefault(expecting(Schema.Array(Schema.Union([Reservation, SavingsPlan])), "a list of owned reservations and savings plans"), []),
  passEverySeconds: withDefault(Bounded({ min: 0.1, max: 3600, unit: "seconds" }), 30),
  maxBodyBytes: withDefault(Bounded({ min: 1024, max: 64 * 1024 * 1024, integer: true, unit: "bytes" }), 1024 * 1024)
}).check(Schema.makeFilter((file: { readonly teams: ReadonlyArray<{ readonly name: string; readonly tokenEnv: string }> }) => {
  const issues: Array<Schema.FilterIssue> = []
  const names = new Set<string>()
  const envs = new Set<string>()
  file.teams.forEach((team, i) => {
    if (names.has(team.name)) issues.push({ path: ["teams", i, "name"], issue: `a name unused by the other teams (${team.name} repeats)` })
    if (envs.has(team.tokenEnv)) issues.push({ path: ["teams", i, "tokenEnv"], issue: `a variable of its own (${team.tokenEnv} is another team's)` })
    names.add(team.name)
    envs.add(team.tokenEnv)
  })
  return issues
}, { expected: "unique team names and token variables" }))
export type SchedulerConfigFile = typeof SchedulerConfigFile.Type

export type Principal = { readonly kind: "team"; readonly team: string } | { readonly kind: "admin" }

export interface ServerConfig {
  readonly policy: SchedulerPolicy
  readonly passEveryMillis: number
  readonly maxBodyBytes: number
  /** Each token with who it authenticates. */
  readonly tokens: ReadonlyArray<{ readonly token: Redacted.Redacted<string>; readonly principal: Principal }>
  /** The scrape token of `/metrics` (`metrics.tokenEnv`); it opens nothing else. */
  readonly metricsToken?: Redacted.Redacted<string> | undefined
}

const MIN_TOKEN_CHARACTERS = 16

const decodeFile = Schema.decodeUnknownExit(SchedulerConfigFile)

/** The config file's text, decoded; the tokens read from `env`. */
export const decodeServerConfig = (
  text: string,
  source: string,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<ServerConfig, InvalidInput> =>
  Effect.suspend(() => {
    const fail = (issues: ReadonlyArray<InputIssue>, from = source) => Effect.fail(new InvalidInput({ source: from, issues }))
    if (looksBinary(text)) return fail([{ path: "", expected: "a UTF-8 text file in YAML or JSON", actual: "binary data" }])
    const parsed = parseText(text)
    if ("issues" in parsed) return fail(parsed.issues)
    if (typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) {
      return fail([{ path: "", expected: "a mapping with teams and maxGpus", actual: showValue(parsed.value) }])
    }
    const exit = decodeFile(parsed.value, strictParseOptions)
    if (Exit.isFailure(exit)) {
      const error = Exit.findErrorOption(exit)
      const issues = error._tag === "None" ? [] : inputIssuesFromSchemaIssue(error.value.issue)
      return fail(issues.length > 0 ? issues : [{ path: "", expected: "a valid scheduler configuration" }])
    }
    const file = exit.value
    const wanted: Array<{ readonly env: string; readonly principal: Principal | "metrics" }> = [
      ...file.teams.map((team) => ({ env: team.tokenEnv, principal: { kind: "team", team: team.name } as const })),
      ...(file.admins === undefined ? [] : [{ env: file.admins.tokenEnv, principal: { kind: "admin" } as const }]),
      ...(file.metrics === undefined ? [] : [{ env: file.metrics.tokenEnv, principal: "metrics" as const }])
    ]
    let metricsToken: Redacted.Redacted<string> | undefined
    const issues: Array<InputIssue> = []
    const tokens: Array<ServerConfig["tokens"][number]> = []
    const seen = new Map<string, string>()
    for (const entry of wanted) {
      const value = env[entry.env]
      // Never the value: only its name and what is wrong with it.
      if (value === undefined || value === "") issues.push({ path: entry.env, expected: `the token of ${describe(entry.principal)} (set in the environment)` })
      else if (value.length < MIN_TOKEN_CHARACTERS) {
        issues.push({ path: entry.env, expected: `a token of at least ${MIN_TOKEN_CHARACTERS} characters for ${describe(entry.principal)}`, actual: `${value.length} characters` })
      } else if (seen.has(value)) issues.push({ path: entry.env, expected: `a token of its own (it equals ${seen.get(value)})` })
      else {
        seen.set(value, entry.env)
        if (entry.principal === "metrics") metricsToken = Redacted.make(value)
        else tokens.push({ token: Redacted.make(value), principal: entry.principal })
      }
    }
    if (issues.length > 0) return fail(issues, "environment")
    return Effect.succeed({
      policy: {
        teams: file.teams.map((team) => ({ name: team.name, monthlyBudgetUsd: team.monthlyBudgetUsd, maxGpus: team.maxGpus })),
        maxGpus: file.maxGpus,
        agingPointsPerHour: file.aging.pointsPerHour,
        preemption: file.preemption,
        commitments: file.commitments
      },
      passEveryMillis: file.passEverySeconds * 1000,
      maxBodyBytes: file.maxBodyBytes,
      tokens,
      metricsToken
    })
  })

const describe = (principal: Principal | "metrics"): string =>
  principal === "metrics" ? "the metrics scrape" : principal.kind === "admin" ? "the admins" : `team ${principal.team}`
