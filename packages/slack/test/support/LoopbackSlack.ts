/**
 * A loopback stand-in for Slack: the Web API under `/api/<method>` (form-encoded or JSON bodies,
 * answering `{ ok: true }`; `apps.connections.open` answers with a WebSocket URL on this same server, for
 * Socket Mode), and response URLs under `/respond/<id>` (JSON bodies). Records every call.
 * Also signs requests the way Slack does (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`).
 */
import { createHmac } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface RecordedCall {
  readonly path: string
  readonly body: Record<string, unknown>
  readonly authorization: string | undefined
}

export interface LoopbackSlack {
  readonly url: string
  readonly calls: Array<RecordedCall>
  /** The HTTP server, so a WebSocket server can share its port. */
  readonly server: Server
  readonly close: () => Promise<void>
}

export const startLoopbackSlack = (): Promise<LoopbackSlack> =>
  new Promise((resolve) => {
    const calls: Array<RecordedCall> = []
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        const json = (request.headers["content-type"] ?? "").includes("json")
        const body: Record<string, unknown> = json
          ? JSON.parse(text)
          : Object.fromEntries([...new URLSearchParams(text)].map(([key, value]) => [key, key === "blocks" ? JSON.parse(value) : value]))
        const path = request.url ?? ""
        calls.push({ path, body, authorization: request.headers.authorization })
        response.writeHead(200, { "content-type": "application/json" })
        if (path.endsWith("/apps.connections.open")) {
          const { port } = server.address() as AddressInfo
          response.end(JSON.stringify({ ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=loopback-ticket` }))
          return
        }
        response.end(JSON.stringify({ ok: true, channel: body["channel"] ?? "C1", ts: "1700000000.000100" }))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({ url: `http://127.0.0.1:${port}`, calls, server, close: () => new Promise((done) => server.close(() => done())) })
    })
  })

export const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

export const sign = (body: string, timestampSeconds: number, secret = signingSecret): Record<string, string> => ({
  "x-slack-request-timestamp": String(timestampSeconds),
  "x-slack-signature": `v0=${createHmac("sha256", secret).update(`v0:${timestampSeconds}:${body}`).digest("hex")}`
})

export const waitFor = async <A>(find: () => A | undefined, what: string, timeoutMs = 15_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const found = find()
    if (found !== undefined) return found
    await new Promise((done) => setTimeout(done, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}
