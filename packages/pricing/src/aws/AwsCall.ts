/**
 * Every AWS request the catalog makes goes through here: the effect's AbortSignal is passed to `send`
 * (interrupting the effect cancels the HTTP request), throttling / 5xx / network faults are retried with
 * jittered exponential backoff, and when retries run out the failure names the service, call and region.
 * Paginated calls use the SDK's generated paginators, exposed as a `Stream` of pages; a page that fails
 * is retried by resuming the paginator from the last token that worked, not from the first page.
 */
import { Context, Duration, Effect, Layer, Predicate, Schedule, Schema, Stream } from "effect"
import { RemoteServiceFailure } from "@frugal/core"

/** Backoff settings. Defaults suit AWS (EC2 recommends exponential backoff with jitter on `RequestLimitExceeded`). */
export interface AwsRetryPolicy {
  readonly baseDelayMillis: number
  readonly maxDelayMillis: number
  /** Retries after the first attempt. */
  readonly retries: number
}

export const AwsRetryPolicy = Context.Reference<AwsRetryPolicy>("@frugal/pricing/aws/AwsRetryPolicy", {
  defaultValue: () => ({ baseDelayMillis: 200, maxDelayMillis: 5_000, retries: 6 })
})

/** `AWS_MAX_ATTEMPTS`, the SDK's standard setting (the SDK's own retries are off), bounds our attempts. */
export const retryPolicyFromEnv = (env: Readonly<Record<string, string | undefined>>, policy: AwsRetryPolicy): AwsRetryPolicy => {
  const attempts = Number(env["AWS_MAX_ATTEMPTS"])
  return Number.isInteger(attempts) && attempts >= 1 ? { ...policy, retries: attempts - 1 } : policy
}

/** The retry policy with `AWS_MAX_ATTEMPTS` applied. */
export const AwsRetryPolicyFromEnv = Layer.effect(
  AwsRetryPolicy,
  Effect.map(AwsRetryPolicy, (policy) => retryPolicyFromEnv(process.env, policy))
)

/** Which call, for messages and the final error. */
export interface AwsCallName {
  readonly service: "Pricing" | "EC2" | "PriceListFile" | "AutoScaling" | "CloudWatch"
  readonly operation: string
  readonly region: string
}

/** An AWS call failed for good: retries ran out, or the error was not worth retrying (access denied). */
export class AwsCallFailed extends Schema.TaggedError<AwsCallFailed>()("AwsCallFailed", {
  service: Schema.String,
  operation: Schema.String,
  region: Schema.String,
  /** SDK error name (`ThrottlingException`, `AccessDeniedException`) or network code. */
  errorName: Schema.String,
  attempts: Schema.Number,
  retryable: Schema.Boolean,
  detail: Schema.String
}) {
  override get message(): string {
    return `AWS ${this.service} ${this.operation} in ${this.region} failed after ${this.attempts} attempt(s): ` +
      `${this.errorName}: ${this.detail}`
  }
}

export const toRemoteServiceFailure = (error: AwsCallFailed): RemoteServiceFailure =>
  new RemoteServiceFailure({
    service: `AWS ${error.service}`,
    operation: error.operation,
    region: error.region,
    detail: `${error.errorName}: ${error.detail} (after ${error.attempts} attempt(s))`
  })

/** One failed attempt, classified. */
interface AttemptFailure {
  readonly errorName: string
  readonly detail: string
  readonly retryable: boolean
}

/** Error names AWS uses for throttling and transient faults (SDK "tell errors apart by name"). */
const RETRYABLE_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "InternalErrorException",
  "Unavailable",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException"
])

const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT"
])

const stringField = (value: unknown, key: string): string | undefined =>
  Predicate.hasProperty(value, key) && Predicate.isString(value[key]) ? value[key] : undefined

const httpStatusOf = (error: unknown): number | undefined => {
  if (!Predicate.hasProperty(error, "$metadata")) return undefined
  const metadata = error.$metadata
  return Predicate.hasProperty(metadata, "httpStatusCode") && Predicate.isNumber(metadata.httpStatusCode)
    ? metadata.httpStatusCode
    : undefined
}

/** Classifies what a rejected `send` (or `fetch`) threw. */
export const classifyAwsError = (error: unknown): AttemptFailure => {
  const name = stringField(error, "name") ?? "Error"
  const code = stringField(error, "code") ?? (Predicate.hasProperty(error, "cause") ? stringField(error.cause, "code") : undefined)
  const status = httpStatusOf(error)
  const message = (stringField(error, "message") ?? String(error)).slice(0, 300)
  const retryable = RETRYABLE_NAMES.has(name) ||
    (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    // fetch() reports a refused or reset connection as a TypeError whose cause carries the code.
    (name === "TypeError" && message === "fetch failed")
  return {
    errorName: code !== undefined && !RETRYABLE_NAMES.has(name) ? `${name} (${code})` : name,
    detail: status !== undefined ? `HTTP ${status}: ${message}` : message,
    retryable
  }
}

const retrySchedule = (policy: AwsRetryPolicy) =>
  Schedule.min([
    Schedule.exponential(Duration.millis(policy.baseDelayMillis)),
    Schedule.spaced(Duration.millis(policy.maxDelayMillis))
  ]).pipe(
    Schedule.jittered,
    Schedule.upTo({ times: policy.retries }),
    Schedule.setInputType<AttemptFailure>(),
    Schedule.while(({ input }) => input.retryable)
  )

const failed = (name: AwsCallName, attempts: number, failure: AttemptFailure) =>
  new AwsCallFailed({ ...name, attempts, errorName: failure.errorName, retryable: failure.retryable, detail: failure.detail })

/** One AWS request with retries. `send` receives the AbortSignal to hand to `client.send(command, { abortSignal })`. */
export const awsCall = <A>(name: AwsCallName, send: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, AwsCallFailed> =>
  Effect.gen(function*() {
    const policy = yield* AwsRetryPolicy
    let attempts = 0
    return yield* Effect.tryPromise({
      try: (signal) => {
        attempts++
        return send(signal)
      },
      catch: classifyAwsError
    }).pipe(
      Effect.retry(retrySchedule(policy)),
      Effect.mapError((failure) => failed(name, attempts, failure))
    )
  })

/**
 * A paginated AWS call as a Stream of pages. `open(startingToken, signal)` returns the SDK paginator
 * (`paginateGetProducts({ client, startingToken }, input, { abortSignal: signal })`); on a retryable failure
 * the stream resumes from the token of the last page it emitted.
 */
export const awsPages = <Page>(
  name: AwsCallName,
  open: (startingToken: string | undefined, signal: AbortSignal) => AsyncIterable<Page>,
  nextToken: (page: Page) => string | undefined
): Stream.Stream<Page, AwsCallFailed> =>
  Stream.unwrap(Effect.gen(function*() {
    const policy = yield* AwsRetryPolicy
    let token: string | undefined = undefined
    let attempts = 0
    const segment = Stream.unwrap(
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (controller) => Effect.sync(() => controller.abort())
        ),
        (controller) => {
          attempts++
          return Stream.fromAsyncIterable(open(token, controller.signal), classifyAwsError)
        }
      )
    ).pipe(
      Stream.tap((page) =>
        Effect.sync(() => {
          token = nextToken(page)
          attempts = 0
        })
      )
    )
    return segment.pipe(
      Stream.retry(retrySchedule(policy)),
      Stream.mapError((failure) => failed(name, Math.max(attempts, 1), failure))
    )
  }))
