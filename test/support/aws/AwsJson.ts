/**
 * The awsJson1_1 protocol (Pricing, Cost Explorer, …): every call is `POST /` with
 * `Content-Type: application/x-amz-json-1.1`, the operation in `X-Amz-Target: <Prefix>.<Operation>`
 * and the input as a JSON body. Success is 200 with a JSON body; an error is 4xx/5xx with
 * `{"__type": "<Code>", "message": "..."}`, which the SDK turns into an error whose `name` is the code.
 */
import type { LoopbackHandler, LoopbackRequest, LoopbackResponse } from "./LoopbackServer.ts"

export type AwsJsonOperation = (input: Record<string, unknown>, request: LoopbackRequest) =>
  | Record<string, unknown>
  | LoopbackResponse
  | Promise<Record<string, unknown> | LoopbackResponse>

/** An error answer in awsJson1_1 form; 400 is what AWS sends for throttling and client errors. */
export const awsJsonError = (code: string, message: string, status = 400): LoopbackResponse => ({
  status,
  headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": code, "x-amzn-requestid": "loopback" },
  body: JSON.stringify({ __type: code, message })
})

export const throttlingException = (): LoopbackResponse => awsJsonError("ThrottlingException", "Rate exceeded", 400)

export const isLoopbackResponse = (value: unknown): value is LoopbackResponse =>
  typeof value === "object" && value !== null && typeof Reflect.get(value, "status") === "number" &&
  typeof Reflect.get(value, "body") === "string"

/** The operation a request names in `X-Amz-Target`, without the service prefix. */
export const awsJsonOperation = (request: LoopbackRequest): string | undefined => {
  const target = request.headers["x-amz-target"]
  const value = Array.isArray(target) ? target[0] : target
  return value?.split(".").pop()
}

/**
 * Routes awsJson1_1 requests for `targetPrefix` (e.g. `AWSPriceListService`) to `operations`.
 * Requests that are not awsJson (`GET /files/...`) go to `fallback`.
 */
export const awsJsonHandler = (
  targetPrefix: string,
  operations: Readonly<Record<string, AwsJsonOperation>>,
  fallback?: LoopbackHandler
): LoopbackHandler =>
async (request) => {
  const target = request.headers["x-amz-target"]
  const value = Array.isArray(target) ? target[0] : target
  if (value === undefined) {
    return fallback !== undefined ? fallback(request) : awsJsonError("UnknownOperationException", "no X-Amz-Target")
  }
  const [prefix, operation] = value.split(".")
  const implementation = prefix === targetPrefix && operation !== undefined ? operations[operation] : undefined
  if (implementation === undefined) return awsJsonError("UnknownOperationException", `unknown target ${value}`)
  const parsed: unknown = request.body === "" ? {} : JSON.parse(request.body)
  const input: Record<string, unknown> = typeof parsed === "object" && parsed !== null ? Object.fromEntries(Object.entries(parsed)) : {}
  const result = await implementation(input, request)
  if (isLoopbackResponse(result)) return result
  return {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "loopback" },
    body: JSON.stringify(result)
  }
}
