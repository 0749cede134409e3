/**
 * Every AWS request Frugal makes goes through here (pricing, waste; runner-ec2 and Service Quotas may adopt it
 * from `@frugal/pricing/aws`): the effect's AbortSignal is passed to `send` (interrupting the effect cancels the
 * HTTP request), throttling / 5xx / network faults / timeouts are retried with jittered exponential backoff, and
 * when retries run out the failure names the service, call and region.
 *
 * Nothing waits forever: clients get connection and request timeouts (`awsClientOptions`, the SDK's
 * NodeHttpHandler `connectionTimeout` / `requestTimeout` / `socketTimeout`), each attempt is also capped here
 * (which covers calls that are not SDK requests, like the price-list file download), and the whole call, every
 * attempt and backoff included, has a deadline. An endpoint that accepts a connection and never answers costs at
 * most the deadline per call.
 *
 * Paginated calls use the SDK's generated paginators, exposed as a `Stream` of pages; a page that fails is retried
 * by resuming the paginator from the last token that worked, not from the first page.
 */
import { Config, Context, Duration, Effect, Layer, Option, Predicate, Schedule, Schema, Stream } from "effect"
import { InvalidInput, RemoteServiceFailure } from "@frugal/core"

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

/** How long anything may take. */
export interface AwsTimeouts {
  /** Establishing the TCP (and TLS) connection. */
  readonly connectTimeoutMillis: number
  /** One attempt: the request sent and the whole response read; also the longest a socket may sit idle. */
  readonly requestTimeoutMillis: number
  /** One call: every attempt and every backoff between them. */
  readonly callDeadlineMillis: number
}

export const DEFAULT_AWS_TIMEOUTS: AwsTimeouts = { connectTimeoutMillis: 5_000, requestTimeoutMillis: 20_000, callDeadlineMillis: 60_000 }

export const AwsTimeouts = Context.Reference<AwsTimeouts>("@frugal/pricing/aws/AwsTimeouts", {
  defaultValue: () => DEFAULT_AWS_TIMEOUTS
})

/** `AWS_MAX_ATTEMPTS`, the SDK's standard setting (the SDK's own retries are off), bounds our attempts. */
export const retryPolicyFromEnv = (env: Readonly<Record<string, string | undefined>>, policy: AwsRetryPolicy): AwsRetryPolicy => {
  const attempts = Number(env["AWS_MAX_ATTEMPTS"])
  return Number.isInteger(attempts) && attempts >= 1 ? { ...policy, retries: attempts - 1 } : policy
}

/** Longest timeout or deadline a setting may ask for: an hour. */
const MAX_SECONDS = 3600

/**
 * `FRUGAL_AWS_TIMEOUT_SECONDS` (one attempt; the connection gets at most 5 s of it) and
 * `FRUGAL_AWS_DEADLINE_SECONDS` (one call, retries included). A value that is not a number of seconds is
 * refused (exit 2) rather than ignored.
 */
export const timeoutsFromEnv = (
  env: Readonly<Record<string, string | undefined>>,
  timeouts: AwsTimeouts
): Effect.Effect<AwsTimeouts, InvalidInput> =>
  Effect.gen(function*() {
    const seconds = (name: string): Effect.Effect<number | undefined, InvalidInput> => {
      const text = env[name]
      if (text === undefined || text.trim() === "") return Effect.succeed(undefined)
      const value = Number(text)
      return Number.isFinite(value) && value > 0 && value <= MAX_SECONDS
        ? Effect.succeed(value)
        : Effect.fail(new InvalidInput({
          source: "environment",
          issues: [{ path: name, expected: `seconds, above 0 and at most ${MAX_SECONDS}`, actual: text }]
        }))
    }
    const request = yield* seconds("FRUGAL_AWS_TIMEOUT_SECONDS")
    const deadline = yield* seconds("FRUGAL_AWS_DEADLINE_SECONDS")
    const requestTimeoutMillis = request === undefined ? timeouts.requestTimeoutMillis : Math.round(request * 1000)
    return {
      connectTimeoutMillis: Math.min(timeouts.connectTimeoutMillis, requestTimeoutMillis),
      requestTimeoutMillis,
      callDeadlineMillis: deadline === undefined ? timeouts.callDeadlineMillis : Math.round(deadline * 1000)
    }
  })

const AWS_CALL_VARIABLES = ["AWS_MAX_ATTEMPTS", "FRUGAL_AWS_TIMEOUT_SECONDS", "FRUGAL_AWS_DEADLINE_SECONDS"] as const

/** The variables above, read once through Effect `Config` (absent ones are absent). */
const awsCallEnvironment = Effect.gen(function*() {
  const env: Record<string, string | undefined> = {}
  for (const name of AWS_CALL_VARIABLES) {
    const value = yield* Config.option(Config.String(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    env[name] = Option.getOrUndefined(value)
  }
  return env
})

/** The retry policy with `AWS_MAX_ATTEMPTS` and the timeouts with `FRUGAL_AWS_TIMEOUT_SECONDS` / `FRUGAL_AWS_DEADLINE_SECONDS`. */
export const AwsCallSettingsFromEnv = Layer.unwrap(
  Effect.gen(function*() {
    const env = yield* awsCallEnvironment
    const policy = retryPolicyFromEnv(env, yield* AwsRetryPolicy)
    const timeouts = yield* timeoutsFromEnv(env, yield* AwsTimeouts)
    return Layer.mergeAll(Layer.succeed(AwsRetryPolicy, policy), Layer.succeed(AwsTimeouts, timeouts))
  })
)

/** The retry policy and timeouts in effect, captured when a service is built. */
export interface AwsCallSettings {
  readonly policy: AwsRetryPolicy
  readonly timeouts: AwsTimeouts
}

export const currentAwsCallSettings: Effect.Effect<AwsCallSettings> = Effect.all({ policy: AwsRetryPolicy, timeouts: AwsTimeouts })

/**
 * Runs `effect` under captured settings: a service built from a layer calls AWS later, from its caller's fiber, and
 * must use the settings its layer was given rather than the caller's.
 */
export const withAwsCallSettings = (settings: AwsCallSettings) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  effect.pipe(Effect.provideService(AwsRetryPolicy, settings.policy), Effect.provideService(AwsTimeouts, settings.timeouts))

/**
 * Client options for any AWS SDK v3 client: the SDK's own retries off (ours are above) and the timeouts on its
 * HTTP handler, which the SDK builds from these options.
 */
export const awsClientOptions = (timeouts: AwsTimeouts) => ({
  maxAttempts: 1,
  requestHandler: {
    connectionTimeout: timeouts.connectTimeoutMillis,
    requestTimeout: timeouts.requestTimeoutMillis,
    throwOnRequestTimeout: true,
    socketTimeout: timeouts.requestTimeoutMillis
  }
})

/** Which call, for messages and the final error. */
export interface AwsCallName {
  /** `Pricing`, `EC2`, `ServiceQuotas`, `AutoScaling`, `Cost Explorer`, `CloudWatch`, `PriceListFile`. */
  readonly service: string
  readonly operation: string
  readonly region: string
}

/** An AWS call failed for good: retries ran out, the deadline passed, or the error was not worth retrying (access denied). */
export class AwsCallFailed extends Schema.TaggedError<AwsCallFailed>()("AwsCallFailed", {
  service: Schema.String,
  operation: Schema.String,
  region: Schema.String,
  /** SDK error name (`ThrottlingException`, `AccessDeniedException`, `TimeoutError`) or network code. */
  errorName: Schema.String,
  attempts: Schema.Number,
  retryable: Schema.Boolean,
  detail: Schema.String
}) {
  override get message(): string {
    return `AWS ${this.service} ${this.operation} in ${this.region} failed after ${this.attempts} attempt(s): ` +
      `${this.errorName}: ${this.detail}`
  }

  /** The call did not answer in time (an attempt's timeout or the call's deadline). */
  get timedOut(): boolean {
    return this.errorName === "TimeoutError"
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
  /** The call's deadline passed (rather than one attempt failing). */
  readonly deadline?: true
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

const seconds = (millis: number): string => `${Math.round(millis / 100) / 10} s`

/** An attempt that got no (complete) answer in time: retried like any other transient fault. */
const attemptTimedOut = (millis: number): AttemptFailure => ({
  errorName: "TimeoutError",
  detail: `no answer within ${seconds(millis)}`,
  retryable: true
})

/** The call's deadline passed: not retried (that is what the deadline is for). The error counts the attempts. */
const deadlinePassed = (millis: number): AttemptFailure => ({
  errorName: "TimeoutError",
  detail: `no answer within the call's ${seconds(millis)} deadline`,
  retryable: false,
  deadline: true
})

export interface AwsCallOptions {
  /** Cap on one attempt when it is longer than a request (a large file download); default the request timeout plus the connection's. */
  readonly attemptTimeoutMillis?: number | undefined
}

/** One AWS request with retries. `send` receives the AbortSignal to hand to `client.send(command, { abortSignal })`. */
export const awsCall = <A>(
  name: AwsCallName,
  send: (signal: AbortSignal) => Promise<A>,
  options: AwsCallOptions = {}
): Effect.Effect<A, AwsCallFailed> =>
  Effect.gen(function*() {
    const policy = yield* AwsRetryPolicy
    const timeouts = yield* AwsTimeouts
    const attemptMillis = options.attemptTimeoutMillis ?? timeouts.requestTimeoutMillis + timeouts.connectTimeoutMillis
    let attempts = 0
    return yield* Effect.tryPromise({
      try: (signal) => {
        attempts++
        return send(signal)
      },
      catch: classifyAwsError
    }).pipe(
      // Interrupting the attempt aborts its signal, which cancels the HTTP request.
      Effect.timeoutOrElse({ duration: Duration.millis(attemptMillis), orElse: () => Effect.fail(attemptTimedOut(attemptMillis)) }),
      Effect.retry(retrySchedule(policy)),
      Effect.timeoutOrElse({
        duration: Duration.millis(timeouts.callDeadlineMillis),
        orElse: () => Effect.fail(deadlinePassed(timeouts.callDeadlineMillis))
      }),
      Effect.mapError((failure) => failed(name, attempts, failure)),
      Effect.withSpan(`AWS ${name.service}.${name.operation}`, { attributes: { region: name.region } })
    )
  })

/**
 * A paginated AWS call as a Stream of pages. `open(startingToken, signal)` returns the SDK paginator
 * (`paginateGetProducts({ client, startingToken }, input, { abortSignal: signal })`); on a retryable failure
 * the stream resumes from the token of the last page it emitted. Each page has the attempt's time limit; the
 * whole stream has the call's deadline.
 */
export const awsPages = <Page>(
  name: AwsCallName,
  open: (startingToken: string | undefined, signal: AbortSignal) => AsyncIterable<Page>,
  nextToken: (page: Page) => string | undefined
): Stream.Stream<Page, AwsCallFailed> =>
  Stream.unwrap(Effect.gen(function*() {
    const policy = yield* AwsRetryPolicy
    const timeouts = yield* AwsTimeouts
    const attemptMillis = timeouts.requestTimeoutMillis + timeouts.connectTimeoutMillis
    let token: string | undefined = undefined
    let attempts = 0
    let totalAttempts = 0
    const segment = Stream.unwrap(
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => new AbortController()),
          (controller) => Effect.sync(() => controller.abort())
        ),
        (controller) => {
          attempts++
          totalAttempts++
          return Stream.fromAsyncIterable(open(token, controller.signal), classifyAwsError)
        }
      )
    ).pipe(
      // A page that does not arrive in time fails this segment; the retry resumes from the last token.
      Stream.timeoutOrElse({ duration: Duration.millis(attemptMillis), orElse: () => Stream.fail(attemptTimedOut(attemptMillis)) }),
      Stream.tap((page) =>
        Effect.sync(() => {
          token = nextToken(page)
          attempts = 0
        })
      )
    )
    const deadline = Effect.sleep(Duration.millis(timeouts.callDeadlineMillis)).pipe(
      Effect.andThen(Effect.fail(deadlinePassed(timeouts.callDeadlineMillis)))
    )
    return segment.pipe(
      Stream.retry(retrySchedule(policy)),
      Stream.interruptWhen(deadline),
      // A page that failed for good reports its own attempts; the deadline reports every attempt of the call.
      Stream.mapError((failure) => failed(name, Math.max(failure.deadline === true ? totalAttempts : attempts, 1), failure))
    )
  }))
