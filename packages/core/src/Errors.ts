/**
 * The errors every package and the CLI agree on. The CLI maps them to exit codes:
 * InvalidInput → 2, NoFeasiblePlacement → 3, RemoteServiceFailure → 4, PartialFailure → 5,
 * LocalFailure → 1 (a local failure, not a bug), anything else → 1 (a bug).
 */
import { Schema } from "effect"

/** One problem with an input: where it is, what was there, what was expected. */
export const InputIssue = Schema.Struct({
  /** Dotted field path such as `workloads[2].model.parameters`; `""` for the whole document. */
  path: Schema.String,
  /** What was expected, in words a user understands: `a number of parameters like 7B or 7e9`. */
  expected: Schema.String,
  /** The offending value, shortened for display; absent when the field was missing. */
  actual: Schema.optionalKey(Schema.String)
})
export type InputIssue = typeof InputIssue.Type

/** Bad input (a workload file, a flag, a trace): every issue found, reported together. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  /** Where the input came from: a file path, `--top`, `stdin`. */
  source: Schema.String,
  issues: Schema.Array(InputIssue)
}) {
  override get message(): string {
    return `${this.source}: ${this.issues.map(formatIssue).join("; ")}`
  }
}

export const formatIssue = (issue: InputIssue): string =>
  `${issue.path === "" ? "(document)" : issue.path}: expected ${issue.expected}` +
  (issue.actual === undefined ? ", but it is missing" : `, got ${issue.actual}`)

/** No placement satisfies the workload: names the constraint that binds. */
export class NoFeasiblePlacement extends Schema.TaggedError<NoFeasiblePlacement>()("NoFeasiblePlacement", {
  workload: Schema.String,
  /** The binding constraint, e.g. `constraints.deadlineHours`. */
  constraint: Schema.String,
  /** A sentence a user can act on: what the best option achieves against the limit. */
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.workload}: no feasible placement: ${this.constraint}: ${this.detail}`
  }
}

/** A remote service (AWS, Slack, a cluster) failed after retries. */
export class RemoteServiceFailure extends Schema.TaggedError<RemoteServiceFailure>()("RemoteServiceFailure", {
  service: Schema.String,
  operation: Schema.String,
  region: Schema.optionalKey(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.service} ${this.operation}${this.region === undefined ? "" : ` in ${this.region}`} failed: ${this.detail}`
  }
}

/**
 * Something on this machine failed: a file that cannot be written, a port already in use. Not the user's input
 * (exit 2) and not a remote service (exit 4): exit 1 with this message, without calling it a bug.
 */
export class LocalFailure extends Schema.TaggedError<LocalFailure>()("LocalFailure", {
  /** What was being done, as a verb phrase: `write report.html`, `listen on 0.0.0.0:3000`. */
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.operation}: ${this.detail}`
  }
}

/** One part of a result that could not be had: which service and call, and why. */
export const UnavailablePart = Schema.Struct({
  service: Schema.String,
  operation: Schema.String,
  detail: Schema.String
})
export type UnavailablePart = typeof UnavailablePart.Type

/**
 * A command produced its output from what it could get, and some parts failed: the output (already printed
 * or written) names them, and the CLI exits with the "partial" code (5) and one line per missing part.
 */
export class PartialFailure extends Schema.TaggedError<PartialFailure>()("PartialFailure", {
  /** What is partial: `the report`, `the refresh`. */
  subject: Schema.String,
  missing: Schema.Array(UnavailablePart)
}) {
  override get message(): string {
    return `${this.subject} is partial: ${this.missing.map(formatUnavailablePart).join("; ")}`
  }
}

export const formatUnavailablePart = (part: UnavailablePart): string => `${part.service} ${part.operation}: ${part.detail}`
