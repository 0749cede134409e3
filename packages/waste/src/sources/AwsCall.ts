/**
 * One AWS request as an Effect: the effect's AbortSignal goes to `send` (interruption cancels the HTTP
 * request), throttling is retried with exponential backoff, and what still fails becomes
 * `RemoteServiceFailure` naming the service, operation and region. Errors are told apart by `name`.
 */
import { RemoteServiceFailure } from "@frugal/core"
import { Effect, Schedule } from "effect"

const RETRYABLE = new Set([
  "ThrottlingException",
  "Throttling",
  "LimitExceededException",
  "RequestLimitExceeded",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalFailure",
  "TimeoutError"
])

const errorName = (error: unknown): string => (error instanceof Error ? error.name : "Error")
const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))

class AwsCallFailed {
  readonly _tag = "AwsCallFailed"
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

export const awsCall = <A>(
  service: string,
  operation: string,
  region: string,
  send: (abortSignal: AbortSignal) => Promise<A>
): Effect.Effect<A, RemoteServiceFailure> =>
  Effect.tryPromise({ try: send, catch: (error) => new AwsCallFailed(error) }).pipe(
    Effect.retry({
      while: (failure) => RETRYABLE.has(errorName(failure.error)),
      times: 4,
      schedule: Schedule.exponential("200 millis", 2)
    }),
    Effect.mapError((failure) =>
      new RemoteServiceFailure({
        service,
        operation,
        region,
        detail: `${errorName(failure.error)}: ${errorMessage(failure.error)}`
      })
    )
  )
