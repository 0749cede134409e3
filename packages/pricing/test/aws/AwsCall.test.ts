import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { classifyAwsError, retryPolicyFromEnv } from "../../src/aws/AwsCall.ts"

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
