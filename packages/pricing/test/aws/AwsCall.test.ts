import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { startLoopbackServer } from "../../../../test/support/aws/LoopbackServer.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import { classifyAwsError, retryPolicyFromEnv } from "../../src/aws/AwsCall.ts"
import { fetchZones } from "../../src/aws/Ec2Api.ts"
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
