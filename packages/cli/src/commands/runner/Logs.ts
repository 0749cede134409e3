/** `frugal logs` behind its flags (loaded lazily: it opens the SQLite ledger). The logs are the SDK's `jobLogs`. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { jobLogs, type JobLogsReport, logsLayer } from "@frugal/sdk/jobs"
import { environment } from "../../Environment.ts"
import { withFlagNames } from "../../FieldFlags.ts"

export interface LogsInput {
  readonly job: string
  readonly attempt: Option.Option<number>
  readonly json: boolean
}

/** `HH:MM:SS` of an ISO time: the events of one attempt are minutes apart, their date is in `frugal status`. */
const clock = (iso: string): string => iso.slice(11, 19)

const text = (report: JobLogsReport): string =>
  report.attempts.flatMap((attempt) => [
    `==> attempt ${attempt.sequence} (${attempt.exitDetail ?? "running"}) ${attempt.logPath ?? "no log"} <==`,
    ...attempt.events.map((event) => `[${clock(event.time)}] ${event.text}`),
    ...attempt.lines
  ]).join("\n")

export const run = (input: LogsInput) =>
  Effect.gen(function*() {
    const report = yield* jobLogs(input.job, { attempt: Option.getOrUndefined(input.attempt) }).pipe(withFlagNames(["attempt"]))
    if (input.json) return yield* Console.log(JSON.stringify(report, null, 2))
    if (report.attempts.length > 0) yield* Console.log(text(report))
  }).pipe(Effect.provide(logsLayer(environment)))
