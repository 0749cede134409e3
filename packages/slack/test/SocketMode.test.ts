import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EmbeddedCatalog } from "@frugal/pricing"
import { CostSource, LostWorkSource, MAX_BLOCKS, UtilizationSource } from "@frugal/waste"
import { Layer, ManagedRuntime } from "effect"
import { join } from "node:path"
import { makeSocketModeBot, type SocketModeBot } from "../src/SocketModeBot.ts"
import { type LoopbackSlack, startLoopbackSlack, waitFor } from "./support/LoopbackSlack.ts"
import { type LoopbackSocketMode, slashCommandEnvelope, startLoopbackSocketMode } from "./support/LoopbackSocketMode.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const appToken = "xapp-1-A0LOOPBACK-1111-f00dfeedcafe"
let slack: LoopbackSlack
let link: LoopbackSocketMode
let bot: SocketModeBot
const log: Array<string> = []
const runtime = ManagedRuntime.make(Layer.mergeAll(
  EmbeddedCatalog.layer,
  CostSource.layerFiles([join(root, "examples/waste/cost-explorer")]),
  UtilizationSource.layerFile(join(root, "examples/waste/gpu-utilization.json")),
  LostWorkSource.layerNone
))

beforeAll(async () => {
  slack = await startLoopbackSlack()
  link = startLoopbackSocketMode(slack)
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
  await link.close()
  await slack.close()
  await runtime.dispose()
})

describe("Slack bot over Socket Mode", () => {
  it("opens the connection with the app token through apps.connections.open on the configured Web API", () => {
    const open = slack.calls.filter((call) => call.path === "/api/apps.connections.open")
    assert.strictEqual(open.length, 1)
    assert.strictEqual(open[0]?.authorization, `Bearer ${appToken}`)
    assert.deepStrictEqual(link.connectedPaths, ["/link/?ticket=loopback-ticket"])
  })

  it("acknowledges a slash_commands envelope, then answers /frugal gpus H100 through its response_url", async () => {
    const envelopeId = "1d3c79ab-0ffb-41f3-a080-d19e85f53649"
    link.sockets[0]?.send(slashCommandEnvelope(envelopeId, "gpus H100", `${slack.url}/respond/socket-1`))
    const ack = await waitFor(() => link.received.find((one) => one.message["envelope_id"] === envelopeId), "the envelope's acknowledgement")
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
