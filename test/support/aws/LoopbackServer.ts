/**
 * A real HTTP server on 127.0.0.1 for tests that drive the real AWS SDK v3 clients. The protocol
 * modules beside it (`AwsJson.ts`, `Ec2Query.ts`) turn a table of operation handlers into a
 * `LoopbackHandler`; this module only serves HTTP, counts requests, injects latency and faults.
 *
 * Point a client at it the standard way: `AWS_ENDPOINT_URL_<SERVICE>=<server.url>` (or
 * `AWS_ENDPOINT_URL`), with any static credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

export interface LoopbackRequest {
  readonly method: string
  /** Path and query, as sent: `/`, `/files/pl.json?x=1`. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** 0-based position of this request among all the server has received. */
  readonly index: number
}

export interface LoopbackResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body: string
}

export type LoopbackHandler = (request: LoopbackRequest) => LoopbackResponse | Promise<LoopbackResponse>

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Every request received so far, in order. */
  readonly requests: ReadonlyArray<LoopbackRequest>
  /** Requests whose client went away before the answer was sent (an aborted `send`). */
  abortedRequests(): number
  /** Replaces the handler (e.g. to change a price between two runs). */
  setHandler(handler: LoopbackHandler): void
  /** Delay added before every response, in milliseconds. */
  setLatencyMs(latencyMs: number): void
  close(): Promise<void>
}

export interface LoopbackOptions {
  readonly latencyMs?: number
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const startLoopbackServer = (
  initialHandler: LoopbackHandler,
  options: LoopbackOptions = {}
): Promise<LoopbackServer> => {
  let handler = initialHandler
  let latencyMs = options.latencyMs ?? 0
  const requests: Array<LoopbackRequest> = []
  let aborted = 0
  const server = createServer((req, res) => {
    res.on("close", () => {
      if (!res.writableEnded) aborted++
    })
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const request: LoopbackRequest = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        index: requests.length
      }
      requests.push(request)
      void (async () => {
        if (latencyMs > 0) await sleep(latencyMs)
        if (res.destroyed) return
        try {
          const response = await handler(request)
          res.writeHead(response.status, { "content-length": Buffer.byteLength(response.body), ...response.headers })
          res.end(response.body)
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error)
          res.writeHead(500, { "content-type": "text/plain" })
          res.end(`loopback handler failed: ${text}`)
        }
      })()
    })
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        abortedRequests: () => aborted,
        setHandler: (next) => {
          handler = next
        },
        setLatencyMs: (next) => {
          latencyMs = next
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}

/**
 * Fault injection: `decide` sees each request and may answer it with a fault response instead of
 * passing it to `handler`. Protocol modules provide the fault bodies (`awsJsonError`, `ec2Error`).
 */
export const withFaults = (
  handler: LoopbackHandler,
  decide: (request: LoopbackRequest) => LoopbackResponse | undefined
): LoopbackHandler =>
(request) => decide(request) ?? handler(request)

/**
 * A deterministic pseudo-random source (mulberry32) so a "30% throttled" run fails the same
 * requests every time.
 */
export const seededRandom = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
