/**
 * Slack's side of Socket Mode on loopback (https://api.slack.com/apis/socket-mode): a WebSocket server on
 * the loopback Web API's port, where its `apps.connections.open` points (`/link/?ticket=…`). It sends
 * `hello` on connect, lets a test send envelopes, and records what the app sends back, each with whether
 * an answer had already reached a response_url at that moment (an acknowledgement must come first).
 */
import { type WebSocket, WebSocketServer } from "ws"
import type { LoopbackSlack } from "./LoopbackSlack.ts"

export interface ReceivedFromApp {
  readonly message: Record<string, unknown>
  readonly answeredBefore: boolean
}

export interface LoopbackSocketMode {
  readonly sockets: Array<WebSocket>
  readonly connectedPaths: Array<string>
  readonly received: Array<ReceivedFromApp>
  readonly close: () => Promise<void>
}

export const startLoopbackSocketMode = (slack: LoopbackSlack): LoopbackSocketMode => {
  const sockets: Array<WebSocket> = []
  const connectedPaths: Array<string> = []
  const received: Array<ReceivedFromApp> = []
  const links = new WebSocketServer({ server: slack.server, path: "/link/" })
  links.on("connection", (socket, request) => {
    sockets.push(socket)
    connectedPaths.push(request.url ?? "")
    socket.on("message", (data) => {
      const answeredBefore = slack.calls.some((call) => call.path.startsWith("/respond/"))
      received.push({ message: JSON.parse(String(data)) as Record<string, unknown>, answeredBefore })
    })
    socket.send(JSON.stringify({
      type: "hello",
      num_connections: 1,
      debug_info: { host: "applink-loopback", build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: "A0LOOPBACK" }
    }))
  })
  return {
    sockets,
    connectedPaths,
    received,
    close: async () => {
      for (const socket of sockets) socket.terminate()
      await new Promise<void>((done) => links.close(() => done()))
    }
  }
}

/** A `slash_commands` envelope as Slack sends it over the socket. */
export const slashCommandEnvelope = (envelopeId: string, text: string, responseUrl: string) =>
  JSON.stringify({
    envelope_id: envelopeId,
    type: "slash_commands",
    accepts_response_payload: true,
    payload: {
      token: "deprecated",
      team_id: "T0001",
      team_domain: "frugal-loopback",
      channel_id: "C0FINOPS",
      channel_name: "finops",
      user_id: "U0001",
      user_name: "ada",
      command: "/frugal",
      text,
      api_app_id: "A0LOOPBACK",
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: `trigger-${envelopeId}`
    }
  })
