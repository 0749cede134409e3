/**
 * A Bolt receiver on Node's HTTP server that accepts only requests Slack signed: the v0 HMAC-SHA256
 * signature of `v0:<timestamp>:<body>` with the signing secret, a timestamp within five minutes of now on
 * either side (Bolt's own check refuses only old ones, so a request signed for tomorrow would be good all
 * day), and not seen before: a replayed request carries the same signature, which is remembered until its
 * timestamp leaves the window, i.e. for as long as it could be accepted.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 *
 * `ack()` answers the HTTP request at once (Slack's three-second limit); the work and `respond()` follow.
 */
import { type App, type Receiver, verifySlackRequest } from "@slack/bolt"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

const FIVE_MINUTES_MS = 5 * 60 * 1000
const MAX_BODY_BYTES = 1_000_000
/** Signatures remembered at most; far above what Slack sends a bot in five minutes. Past it, new requests wait. */
const MAX_REMEMBERED = 100_000

/** Whether a request's timestamp (seconds) is within five minutes of `nowMillis`, before or after. */
export const withinWindow = (timestampSeconds: number, nowMillis: number): boolean =>
  Math.abs(nowMillis - timestampSeconds * 1000) <= FIVE_MINUTES_MS

export interface ReceiverOptions {
  readonly signingSecret: string
  readonly path?: string
  /** Current time in ms (tests move it); defaults to the system clock. */
  readonly now?: () => number
  /** Where a rejected request is reported (never with the secret or the body). */
  readonly onRejected?: (reason: string) => void
}

export class SignedRequestReceiver implements Receiver {
  readonly #options: ReceiverOptions
  /** Signature → the time (ms) its request's timestamp leaves the window. */
  readonly #seen = new Map<string, number>()
  #app: App | undefined
  #server: Server | undefined

  constructor(options: ReceiverOptions) {
    this.#options = options
  }

  init(app: App): void {
    this.#app = app
  }

  /** Listens on `port` (0: any free port) on `host`; resolves with the port. */
  start(port = 3000, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((request, response) => void this.#handle(request, response))
      server.once("error", reject)
      server.listen(port, host, () => {
        this.#server = server
        resolve((server.address() as AddressInfo).port)
      })
    })
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.#server === undefined ? resolve() : this.#server.close(() => resolve())))
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST" || (request.url ?? "").split("?")[0] !== (this.#options.path ?? "/slack/events")) {
      response.writeHead(404).end()
      return
    }
    const body = await readBody(request).catch(() => null)
    if (body === null) {
      response.writeHead(413).end()
      return
    }
    const rejection = this.#verify(request, body)
    if (rejection !== null) {
      this.#options.onRejected?.(rejection)
      response.writeHead(401, { "content-type": "text/plain" }).end(rejection)
      return
    }
    const parsed = parseBody(request.headers["content-type"] ?? "", body)
    if (parsed === null) {
      response.writeHead(400).end()
      return
    }
    if (parsed["type"] === "url_verification") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ challenge: parsed["challenge"] }))
      return
    }
    let acked = false
    const ack = async (answer?: unknown): Promise<void> => {
      if (acked) return
      acked = true
      if (answer === undefined || answer === "") response.writeHead(200).end()
      else if (typeof answer === "string") response.writeHead(200, { "content-type": "text/plain" }).end(answer)
      else response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer))
    }
    try {
      await this.#app?.processEvent({ body: parsed, ack })
      await ack()
    } catch {
      if (!acked) {
        acked = true
        response.writeHead(500).end()
      }
    }
  }

  #verify(request: IncomingMessage, body: string): string | null {
    const signature = header(request, "x-slack-signature")
    const timestamp = Number(header(request, "x-slack-request-timestamp"))
    if (signature === undefined || !Number.isInteger(timestamp)) return "missing signature headers"
    const now = this.#options.now?.() ?? Date.now()
    if (!withinWindow(timestamp, now)) return timestamp * 1000 < now ? "stale timestamp" : "timestamp in the future"
    try {
      verifySlackRequest({
        signingSecret: this.#options.signingSecret,
        body,
        headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
        nowMilliseconds: now
      })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      return /stale|timestamp/i.test(message) ? "stale timestamp" : "signature mismatch"
    }
    for (const [key, expiresAt] of this.#seen) if (expiresAt < now) this.#seen.delete(key)
    // The signature covers the timestamp and the body, so it alone identifies the request.
    if (this.#seen.has(signature)) return "replayed request"
    if (this.#seen.size >= MAX_REMEMBERED) return "too many requests in five minutes"
    this.#seen.set(signature, timestamp * 1000 + FIVE_MINUTES_MS)
    return null
  }
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"))
        request.destroy()
      } else chunks.push(chunk)
    })
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

/** Slash commands are form-encoded; interactivity sends `payload=<JSON>`; the Events API sends JSON. */
const parseBody = (contentType: string, body: string): Record<string, unknown> | null => {
  try {
    if (contentType.includes("application/json")) {
      const value: unknown = JSON.parse(body)
      return typeof value === "object" && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : null
    }
    const form = Object.fromEntries(new URLSearchParams(body))
    if (typeof form["payload"] === "string") {
      const value: unknown = JSON.parse(form["payload"])
      return typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : null
    }
    return form
  } catch {
    return null
  }
}
