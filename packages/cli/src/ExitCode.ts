/**
 * How a finished `frugal` run becomes an exit code and a few lines on stderr.
 *
 * The contract (ARCHITECTURE.md, "CLI contract"): 0 ok, 2 invalid input (every bad field on its own
 * line), 3 no feasible placement (naming the binding constraint), 4 a remote service failed after
 * retries, 5 partial (the output was produced from what could be had, and the parts that could not are named:
 * a report, `prices refresh`),
 * 1 a local failure (a file that cannot be written, a port in use) or a bug. A user never sees a stack trace unless they ask for one with
 * `FRUGAL_DEBUG=1`: traces are for us, messages are for them.
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { formatIssue, formatUnavailablePart, InvalidInput, NoFeasiblePlacement, PartialFailure, RemoteServiceFailure } from "@frugal/core"

export const ExitCode = {
  ok: 0,
  bug: 1,
  invalidInput: 2,
  noFeasiblePlacement: 3,
  remoteServiceFailure: 4,
  /** Output produced from the parts that could be had; stderr names each missing part. */
  partial: 5,
  /** 128 + SIGINT, what shells expect from a run stopped with Ctrl-C. */
  interrupted: 130
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * Several workloads of a fleet have no feasible placement. The plan for every workload has already
 * been printed; this carries the exit code 3 and one line per infeasible workload to stderr.
 */
export class FleetInfeasible extends Schema.TaggedError<FleetInfeasible>()("FleetInfeasible", {
  failures: Schema.Array(NoFeasiblePlacement)
}) {
  override get message(): string {
    return `${this.failures.length} workload(s) have no feasible placement`
  }
}

/**
 * A command did part of its work and kept it; the lines say what was not done and why (`prices refresh`
 * with a kind or region AWS did not serve). Exit 5.
 */

/** What to print and which code to exit with. */
export interface Outcome {
  readonly code: number
  /** Lines for stderr, without trailing newlines; empty when the output already said it all. */
  readonly stderr: ReadonlyArray<string>
}

/** effect/cli's own errors (bad flags, missing arguments, `--help` shown implicitly). */
const isCliError = (u: unknown): u is { readonly _tag: string; readonly errors?: ReadonlyArray<unknown> } =>
  typeof u === "object" && u !== null && "~effect/cli/CliError" in u

const messageOf = (u: unknown): string =>
  u instanceof Error ? u.message : typeof u === "string" ? u : JSON.stringify(u) ?? String(u)

export const invalidInputLines = (error: InvalidInput): ReadonlyArray<string> => [
  `error: invalid input in ${error.source}:`,
  ...error.issues.map((issue) => `  ${formatIssue(issue)}`)
]

export const noFeasiblePlacementLine = (error: NoFeasiblePlacement): string =>
  `error: ${error.workload}: no feasible placement: ${error.constraint}: ${error.detail}`

/**
 * Failures of the work rather than of frugal: a job that spent its retry budget, a drill whose runs ended
 * differently, a command that could not start, no Python with torch, a ledger that cannot be opened, a
 * local failure (a file that cannot be written, a port already in use).
 * Exit 1 with their own message, without the "this is a bug" line.
 */
const WORK_FAILURES: ReadonlySet<string> = new Set([
  "JobFailed",
  "DrillFailed",
  "RunnerError",
  "LedgerError",
  "JobSpecUnreadable",
  "PythonNotFound",
  "LocalFailure",
  "LeaseLost"
])

/**
 * Requests refused as they stand, with nothing started: a job id that is not in the ledger (JobNotFound names it), a
 * job another process is running (JobLeased names it), a workload other than the one a job was made from
 * (WorkloadMismatch names what differs). Mistakes in the input, not failures of the work: exit 2, like bad input.
 */
const REFUSALS: ReadonlySet<string> = new Set(["JobNotFound", "JobLeased", "WorkloadMismatch"])

const isRefusal = (u: unknown): u is Error => u instanceof Error && "_tag" in u && typeof u._tag === "string" && REFUSALS.has(u._tag)

const errorLines = (error: Error): ReadonlyArray<string> =>
  error.message.split("\n").map((line, i) => (i === 0 ? `error: ${line}` : line))

const isWorkFailure = (u: unknown): u is Error =>
  u instanceof Error && "_tag" in u && typeof u._tag === "string" && WORK_FAILURES.has(u._tag)

/** Maps one expected failure to its outcome. */
export const outcomeOfError = (error: unknown): Outcome => {
  if (isCliError(error)) {
    // ShowHelp with no errors is `frugal` or `frugal prices` alone: help was printed, nothing failed.
    if (error._tag === "ShowHelp") {
      return { code: (error.errors?.length ?? 0) > 0 ? ExitCode.invalidInput : ExitCode.ok, stderr: [] }
    }
    return { code: ExitCode.invalidInput, stderr: [`error: ${messageOf(error)}`] }
  }
  if (error instanceof InvalidInput) return { code: ExitCode.invalidInput, stderr: invalidInputLines(error) }
  if (error instanceof NoFeasiblePlacement) {
    return { code: ExitCode.noFeasiblePlacement, stderr: [noFeasiblePlacementLine(error)] }
  }
  if (error instanceof FleetInfeasible) {
    return { code: ExitCode.noFeasiblePlacement, stderr: error.failures.map(noFeasiblePlacementLine) }
  }
  if (error instanceof RemoteServiceFailure) {
    return { code: ExitCode.remoteServiceFailure, stderr: [`error: ${error.message}`] }
  }
  if (error instanceof PartialFailure) {
    return { code: ExitCode.partial, stderr: error.missing.map((part) => `error: ${error.subject} is partial: ${formatUnavailablePart(part)}`) }
  }
  if (isRefusal(error)) return { code: ExitCode.invalidInput, stderr: errorLines(error) }
  if (isWorkFailure(error)) return { code: ExitCode.bug, stderr: errorLines(error) }
  return {
    code: ExitCode.bug,
    stderr: [`error: ${messageOf(error)}`, "This is a bug in frugal; run again with FRUGAL_DEBUG=1 for details."]
  }
}

/**
 * The outcome of a whole run. Expected failures come first (a defect raised while cleaning up after
 * an InvalidInput must not hide the user's mistake); interruption alone is Ctrl-C.
 */
export const outcomeOfExit = (exit: Exit.Exit<unknown, unknown>, debug: boolean): Outcome => {
  if (Exit.isSuccess(exit)) return { code: ExitCode.ok, stderr: [] }
  const cause = exit.cause
  if (Cause.hasInterruptsOnly(cause)) return { code: ExitCode.interrupted, stderr: [] }
  const failure = cause.reasons.find(Cause.isFailReason)
  const outcome = failure !== undefined
    ? outcomeOfError(failure.error)
    : outcomeOfError(cause.reasons.find(Cause.isDieReason)?.defect ?? "unknown failure")
  return debug && outcome.code !== ExitCode.ok
    ? { code: outcome.code, stderr: [...outcome.stderr, Cause.pretty(cause)] }
    : outcome
}

/** `FRUGAL_DEBUG=1` (or `true`) turns on stack traces. */
export const debugEnabled = (env: NodeJS.ProcessEnv): boolean =>
  env["FRUGAL_DEBUG"] === "1" || env["FRUGAL_DEBUG"] === "true"
