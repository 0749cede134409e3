import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { startSilentServer } from "../../../../test/support/aws/Faults.ts"
import { startLoopbackServer } from "../../../../test/support/aws/LoopbackServer.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import {
  awsClientOptions,
  AwsRetryPolicy,
  AwsTimeouts,
  classifyAwsError,
  DEFAULT_AWS_TIMEOUTS,
  retryPolicyFromEnv,
  timeoutsFromEnv
} from "../../src/aws/AwsCall.ts"
import { fetchGpuInstanceTypes, fetchZones } from "../../src/aws/Ec2Api.ts"
import { useFakeAwsEnvironment } from "../support/FakeAws.ts"

const sdkError = (name: string, status: number) => Object.assign(new Error(`${name}!`), { name, $metadata: { httpStatusCode: status } })

describe("AWS error classification", () => {
  it.effect("retries throttling, 5xx and refused connections; not access denied or bad requests", () =>
    Effect.sync(() => {
      assert.isTrue(classifyAwsError(sdkError("ThrottlingException", 400)).retryable)
      assert.isTrue(classifyAwsError(sdkError("RequestLimitExceeded", 503)).retryable)
      assert.isTrue(classifyAwsError(sdkError("SomethingNew", 502)).retryable)
      assert.isTrue(classifyAwsError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })).retryable)
      assert.isFalse(classifyAwsError(sdkError("AccessDeniedException", 400)).retryable)
      assert.isFalse(classifyAwsError(sdkError("InvalidParameterValue", 400)).retryable)
      assert.strictEqual(classifyAwsError(sdkError("ThrottlingException", 400)).detail, "HTTP 400: ThrottlingException!")
    }))

  it.effect("AWS_MAX_ATTEMPTS bounds the attempts, like the SDK's own setting", () =>
    Effect.sync(() => {
      const policy = { baseDelayMillis: 200, maxDelayMillis: 5000, retries: 6 }
      assert.strictEqual(retryPolicyFromEnv({ AWS_MAX_ATTEMPTS: "3" }, policy).retries, 2)
      assert.strictEqual(retryPolicyFromEnv({ AWS_MAX_ATTEMPTS: "zero" }, policy).retries, 6)
      assert.strictEqual(retryPolicyFromEnv({}, policy).retries, 6)
    }))
})

describe("cancellation", () => {
  it.live("interrupting a call aborts its HTTP request (the AbortSignal reaches send)", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startLoopbackServer(() => ({ status: 200, body: "" }), { latencyMs: 30_000 })),
        (s) => Effect.promise(() => s.close())
      )
      useFakeAwsEnvironment(server.url)
      const outcome = yield* fetchZones("us-east-1").pipe(
        Effect.provide(AwsClients.layer),
        Effect.timeoutOption("300 millis")
      )
      assert.isTrue(Option.isNone(outcome))
      // The server notices the closed connection shortly after the abort.
      for (let i = 0; i < 50 && server.abortedRequests() === 0; i++) yield* Effect.sleep("20 millis")
      assert.strictEqual(server.requests.length, 1)
      assert.strictEqual(server.abortedRequests(), 1)
    }).pipe(Effect.scoped))
})

describe("timeouts", () => {
  const quick = { connectTimeoutMillis: 200, requestTimeoutMillis: 300, callDeadlineMillis: 20_000 }

  it.live("a call to an endpoint that accepts and never answers times out, retries, and fails within its deadline", () =>
    Effect.gen(function*() {
      const silent = yield* Effect.acquireRelease(Effect.promise(() => startSilentServer()), (s) => Effect.promise(() => s.close()))
      useFakeAwsEnvironment(silent.url)
      const failure = yield* fetchZones("us-east-1").pipe(
        Effect.provide(AwsClients.layer),
        Effect.provide(Layer.mergeAll(
          Layer.succeed(AwsTimeouts, quick),
          Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 10, maxDelayMillis: 20, retries: 2 })
        )),
        Effect.flip
      )
      // Each attempt timed out (without timeouts the first never ends) and the retries ran out before the deadline.
      assert.strictEqual(failure.errorName, "TimeoutError")
      assert.isTrue(failure.timedOut)
      assert.strictEqual(failure.attempts, 3)
      assert.strictEqual(silent.connections(), 3)
      assert.notInclude(failure.detail, "deadline")
    }).pipe(Effect.scoped))

  it.live("the call's deadline ends retries that would otherwise go on", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startLoopbackServer(() => new Promise(() => undefined))),
        (s) => Effect.promise(() => s.close())
      )
      useFakeAwsEnvironment(server.url)
      const failure = yield* fetchGpuInstanceTypes("us-east-1").pipe(
        Effect.provide(AwsClients.layer),
        Effect.provide(Layer.mergeAll(
          Layer.succeed(AwsTimeouts, { connectTimeoutMillis: 200, requestTimeoutMillis: 250, callDeadlineMillis: 1_000 }),
          Layer.succeed(AwsRetryPolicy, { baseDelayMillis: 10, maxDelayMillis: 20, retries: 100 })
        )),
        Effect.flip
      )
      assert.strictEqual(failure.errorName, "TimeoutError")
      assert.strictEqual(failure.detail, "no answer within the call's 1 s deadline")
      assert.isAtLeast(failure.attempts, 2)
      assert.isAtLeast(server.requests.length, 2)
      assert.isBelow(server.requests.length, 10)
    }).pipe(Effect.scoped))

  it.effect("FRUGAL_AWS_TIMEOUT_SECONDS and FRUGAL_AWS_DEADLINE_SECONDS set them; a value that is not seconds is refused", () =>
    Effect.gen(function*() {
      const set = yield* timeoutsFromEnv({ FRUGAL_AWS_TIMEOUT_SECONDS: "2", FRUGAL_AWS_DEADLINE_SECONDS: "7.5" }, DEFAULT_AWS_TIMEOUTS)
      assert.deepStrictEqual(set, { connectTimeoutMillis: 2_000, requestTimeoutMillis: 2_000, callDeadlineMillis: 7_500 })
      assert.deepStrictEqual(yield* timeoutsFromEnv({}, DEFAULT_AWS_TIMEOUTS), DEFAULT_AWS_TIMEOUTS)
      const bad = yield* Effect.flip(timeoutsFromEnv({ FRUGAL_AWS_TIMEOUT_SECONDS: "soon" }, DEFAULT_AWS_TIMEOUTS))
      assert.strictEqual(bad.message, "environment: FRUGAL_AWS_TIMEOUT_SECONDS: expected seconds, above 0 and at most 3600, got soon")
      const zero = yield* Effect.flip(timeoutsFromEnv({ FRUGAL_AWS_DEADLINE_SECONDS: "0" }, DEFAULT_AWS_TIMEOUTS))
      assert.include(zero.message, "FRUGAL_AWS_DEADLINE_SECONDS")
    }))

  it.effect("clients get the connection and request timeouts on their HTTP handler, and no SDK retries", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(awsClientOptions({ connectTimeoutMillis: 1_000, requestTimeoutMillis: 9_000, callDeadlineMillis: 30_000 }), {
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 1_000, requestTimeout: 9_000, throwOnRequestTimeout: true, socketTimeout: 9_000 }
      })
    }))
})
