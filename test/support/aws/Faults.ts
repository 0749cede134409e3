/**
 * Faults an AWS endpoint can have, for fault-injection tests of every AWS call site (pricing, waste; the EC2
 * runner and Service Quotas can join by adding their call sites to `test/aws-faults.test.ts`):
 *
 * | fault | what the client sees |
 * |---|---|
 * | `silent` | a TCP server that accepts connections and never sends a byte (`startSilentServer`) |
 * | `hang` | an HTTP server that reads the request and never answers |
 * | `throttle` | the protocol's throttling error: awsJson `ThrottlingException` (400), EC2 `RequestLimitExceeded` (503), S3 `SlowDown` (503) |
 * | `5xx` | the protocol's internal error with HTTP 500 |
 * | `garbage` | HTTP 200 with bytes that are neither JSON nor XML |
 * | `truncated` | HTTP 200 with the first half of the real answer (a cut-off response body) |
 *
 * `withFault(handler, pick)` wraps any loopback handler: `pick(request)` names the fault for that request, or
 * undefined to let the real handler answer.
 */
import { createServer, type Socket } from "node:net"
import type { AddressInfo } from "node:net"
import { awsJsonError, throttlingException } from "./AwsJson.ts"
import { ec2Error, isEc2Query, requestLimitExceeded } from "./Ec2Query.ts"
import type { LoopbackHandler, LoopbackRequest, LoopbackResponse } from "./LoopbackServer.ts"

export const HTTP_FAULTS = ["hang", "throttle", "5xx", "garbage", "truncated"] as const
export type HttpFault = typeof HTTP_FAULTS[number]
export type Fault = HttpFault | "silent"

const isAwsJson = (request: LoopbackRequest) => request.headers["x-amz-target"] !== undefined

/** The throttling answer of the request's protocol. */
export const throttleFor = (request: LoopbackRequest): LoopbackResponse =>
  isEc2Query(request)
    ? requestLimitExceeded()
    : isAwsJson(request)
    ? throttlingException()
    : { status: 503, headers: { "content-type": "application/xml" }, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" }

/** The internal-error answer of the request's protocol. */
export const internalErrorFor = (request: LoopbackRequest): LoopbackResponse =>
  isEc2Query(request)
    ? ec2Error("InternalError", "An internal error has occurred.", 500)
    : isAwsJson(request)
    ? awsJsonError("InternalFailure", "The request processing has failed because of an unknown error.", 500)
    : { status: 500, headers: { "content-type": "application/xml" }, body: "<Error><Code>InternalError</Code></Error>" }

/** Deterministic bytes that parse as neither JSON nor XML. */
export const garbageBody = (): string => Array.from({ length: 512 }, (_, i) => String.fromCharCode(33 + ((i * 7919 + 13) % 90))).join("")

const garbageFor = (request: LoopbackRequest): LoopbackResponse => ({
  status: 200,
  headers: {
    "content-type": isEc2Query(request) ? "text/xml;charset=UTF-8" : isAwsJson(request) ? "application/x-amz-json-1.1" : "application/json"
  },
  body: `{<${garbageBody()}`
})

const never = new Promise<LoopbackResponse>(() => undefined)

/** `handler` with `pick`'s fault injected into the requests it names. */
export const withFault = (handler: LoopbackHandler, pick: (request: LoopbackRequest) => HttpFault | undefined): LoopbackHandler =>
async (request) => {
  const fault = pick(request)
  switch (fault) {
    case undefined:
      return handler(request)
    case "hang":
      return never
    case "throttle":
      return throttleFor(request)
    case "5xx":
      return internalErrorFor(request)
    case "garbage":
      return garbageFor(request)
    case "truncated": {
      const real = await handler(request)
      return { ...real, body: real.body.slice(0, Math.floor(real.body.length / 2)) }
    }
  }
}

export interface SilentServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Connections accepted so far. */
  connections(): number
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 that accepts every connection and never sends anything. */
export const startSilentServer = (): Promise<SilentServer> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>()
    let accepted = 0
    const server = createServer((socket) => {
      accepted++
      sockets.add(socket)
      socket.on("error", () => undefined)
      socket.on("close", () => sockets.delete(socket))
      socket.resume() // read and discard the request
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        connections: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })
