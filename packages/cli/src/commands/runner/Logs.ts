/** `frugal logs` behind its flags (loaded lazily: it opens the SQLite ledger). */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { InvalidInput } from "@frugal/core"
import { Ledger, LocalRunner, Runner } from "@frugal/runner"

export interface LogsInput {
  readonly job: string
  readonly attempt: Option.Option<number>
}

export const run = (input: LogsInput) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const runner = yield* Runner
    if ((yield* ledger.job(input.job)) === undefined) {
      return yield* new InvalidInput({
        source: "JOB",
        issues: [{ path: "JOB", expected: `a job in the ledger ${ledger.path} (frugal status lists them)`, actual: input.job }]
      })
    }
    const attempts = (yield* ledger.attempts(input.job)).filter((a) =>
      Option.isNone(input.attempt) || a.sequence === input.attempt.value
    )
    if (attempts.length === 0 && Option.isSome(input.attempt)) {
      return yield* new InvalidInput({
        source: "--attempt",
        issues: [{ path: "--attempt", expected: "an attempt number of this job", actual: String(input.attempt.value) }]
      })
    }
    for (const attempt of attempts) {
      yield* Console.log(`==> attempt ${attempt.sequence} (${attempt.exitDetail ?? "running"}) ${attempt.logPath ?? "no log"} <==`)
      yield* Stream.runForEach(runner.logs({ attemptId: attempt.id, logPath: attempt.logPath }), (line) => Console.log(line))
    }
  }).pipe(Effect.provide(Layer.merge(Ledger.layer, LocalRunner.layer)))
