import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EmbeddedCatalog } from "@frugal/pricing"
import { CostSource, LostWorkSource, MAX_BLOCKS, UtilizationSource } from "@frugal/waste"
import { Layer, ManagedRuntime } from "effect"
import { join } from "node:path"
import { type WebSocket, WebSocketServer } from "ws"
import { makeSocketModeBot, type SocketModeBot } from "../src/SocketModeBot.ts"
import { type LoopbackSlack, startLoopbackSlack, waitFor } from "./support/LoopbackSlack.ts"

/**
 * Slack's side of Socket Mode on loopback: `apps.connections.open` on the loopback Web API hands out a
 * `ws://127.0.0.1` URL; this WebSocket server sends `hello` on connect, then envelopes the way Slack
 * does (https://api.slack.com/apis/socket-mode), and records what the app sends back.
 */
const root = join(import.meta.dirname, "..", "..", "..")
const appToken = "xapp-1-A0LOOPBACK-1111-f00dfeedcafe"
let slack: LoopbackSlack
let links: WebSocketServer
let bot: SocketModeBot
const sockets: Array<WebSocket> = []
const connectedPaths: Array<string> = []
/** Each message the app sent, with whether the answer had already reached the response_url by then. */
const received: Array<{ readonly message: Record<string, unknown>; readonly answeredBefore: boolean }> = []
const log: Array<string> = []
const runtime = ManagedRuntime.make(Layer.mergeAll(
  EmbeddedCatalog.layer,
  CostSource.layerFiles([join(root, "examples/waste/cost-explorer")]),
  UtilizationSource.layerFile(join(root, "examples/waste/gpu-utilization.json")),
  LostWorkSource.layerNone
))

beforeAll(async () => {
  slack = await startLoopbackSlack()
  links = new WebSocketServer({ server: slack.server, path: "/link/" })
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
  bot = makeSocketModeBot({
    token: "xoxb-loopback-token",
    appToken,
    slackApiUrl: `${slack.url}/api/`,
    examplesDir: join(root, "examples"),
    runtime,
    log: (line) => void log.push(line)
  })
  // Resolves once Slack's `hello` has arrived on the WebSocket.
  await bot.receiver.start()
})
afterAll(async () => {
  await bot.receiver.stop()
  for (const socket of sockets) socket.terminate()
  await new Promise<void>((done) => links.close(() => done()))
  await slack.close()
  await runtime.dispose()
})

describe("Slack bot over Socket Mode", () => {
  it("opens the connection with the app token through apps.connections.open on the configured Web API", () => {
    const open = slack.calls.filter((call) => call.path === "/api/apps.connections.open")
    assert.strictEqual(open.length, 1)
    assert.strictEqual(open[0]?.authorization, `Bearer ${appToken}`)
    assert.deepStrictEqual(connectedPaths, ["/link/?ticket=loopback-ticket"])
  })

  it("acknowledges a slash_commands envelope, then answers /frugal gpus H100 through its response_url", async () => {
    const envelopeId = "1d3c79ab-0ffb-41f3-a080-d19e85f53649"
    const socket = sockets[0]
    assert.isDefined(socket)
    socket?.send(JSON.stringify({
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
        text: "gpus H100",
        api_app_id: "A0LOOPBACK",
        is_enterprise_install: "false",
        response_url: `${slack.url}/respond/socket-1`,
        trigger_id: "trigger-socket-1"
      }
    }))
    const ack = await waitFor(() => received.find((one) => one.message["envelope_id"] === envelopeId), "the envelope's acknowledgement")
    assert.deepStrictEqual(ack.message, { envelope_id: envelopeId, payload: {} })
    assert.isFalse(ack.answeredBefore, "acknowledged before the answer was sent")

    const answer = await waitFor(() => slack.calls.find((call) => call.path === "/respond/socket-1"), "the answer")
    assert.strictEqual(answer.body["response_type"], "in_channel")
    assert.match(String(answer.body["text"]), /H100 instances in us-east-1/)
    const blocks = answer.body["blocks"] as ReadonlyArray<unknown>
    assert.isAtMost(blocks.length, MAX_BLOCKS)
    assert.match(JSON.stringify(blocks), /\*p5\.48xlarge\* 8× H100/)
    assert.isFalse(log.join("\n").includes(appToken))
  })
})
