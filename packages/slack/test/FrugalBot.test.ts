import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { EmbeddedCatalog } from "@frugal/pricing"
import { CostSource, LostWorkSource, MAX_BLOCKS, MAX_TEXT, UtilizationSource } from "@frugal/waste"
import { Layer, ManagedRuntime } from "effect"
import { join } from "node:path"
import { type FrugalBot, makeFrugalBot } from "../src/FrugalBot.ts"
import { type LoopbackSlack, sign, signingSecret, startLoopbackSlack, waitFor } from "./support/LoopbackSlack.ts"

const root = join(import.meta.dirname, "..", "..", "..")
let slack: LoopbackSlack
let bot: FrugalBot
let botUrl: string
const log: Array<string> = []
const runtime = ManagedRuntime.make(Layer.mergeAll(
  EmbeddedCatalog.layer,
  CostSource.layerFiles([join(root, "examples/waste/cost-explorer")]),
  UtilizationSource.layerFile(join(root, "examples/waste/gpu-utilization.json")),
  LostWorkSource.layerNone
))

beforeAll(async () => {
  slack = await startLoopbackSlack()
  bot = makeFrugalBot({
    token: "xoxb-loopback-token",
    signingSecret,
    slackApiUrl: `${slack.url}/api/`,
    examplesDir: join(root, "examples"),
    runtime,
    log: (line) => void log.push(line)
  })
  botUrl = `http://127.0.0.1:${await bot.receiver.start(0)}/slack/events`
})
afterAll(async () => {
  await bot.receiver.stop()
  await slack.close()
  await runtime.dispose()
})

let requestId = 0
const slashBody = (text: string, channel = "C0FINOPS") => {
  const id = ++requestId
  return {
    id,
    body: new URLSearchParams({
      token: "deprecated",
      team_id: "T0001",
      channel_id: channel,
      user_id: "U0001",
      command: "/frugal",
      text,
      response_url: `${slack.url}/respond/${id}`,
      trigger_id: `trigger-${id}`
    }).toString()
  }
}

const post = (body: string, headers: Record<string, string>, contentType = "application/x-www-form-urlencoded") =>
  fetch(botUrl, { method: "POST", body, headers: { "content-type": contentType, ...headers } })

const now = () => Math.floor(Date.now() / 1000)

interface Message {
  readonly text: string
  readonly blocks: ReadonlyArray<Record<string, unknown>>
}

const responseTo = async (id: number): Promise<Message> => {
  const call = await waitFor(() => slack.calls.find((one) => one.path === `/respond/${id}`), `response ${id}`)
  return { text: String(call.body["text"]), blocks: call.body["blocks"] as ReadonlyArray<Record<string, unknown>> }
}

/** Every text object in a message: section and header text, context elements, button labels. */
const texts = (message: Message): ReadonlyArray<string> =>
  JSON.stringify(message.blocks).match(/"text":"(?:[^"\\]|\\.)*"/g)?.map((text) => JSON.parse(text.slice(7)) as string) ?? []

const assertWithinLimits = (message: Message) => {
  assert.isAtMost(message.blocks.length, MAX_BLOCKS)
  assert.isAtMost(message.text.length, MAX_TEXT)
  for (const text of texts(message)) {
    assert.isAtMost(text.length, MAX_TEXT)
    assert.isAbove(text.length, 0)
  }
}

describe("Slack bot", () => {
  it("acknowledges a signed /frugal gpus at once, then responds with the price list", async () => {
    const { body, id } = slashBody("gpus A10G")
    const response = await post(body, sign(body, now()))
    assert.strictEqual(response.status, 200)
    const message = await responseTo(id)
    assertWithinLimits(message)
    assert.match(message.text, /A10G instances in us-east-1/)
    assert.match(texts(message).join("\n"), /\*g5\.xlarge\* 1× A10G/)
  })

  it("rejects a wrong signature, a timestamp older than five minutes and a replayed request", async () => {
    const wrong = slashBody("gpus H100")
    const forged = await post(wrong.body, sign(wrong.body, now(), "not-the-secret"))
    assert.strictEqual(forged.status, 401)
    assert.strictEqual(await forged.text(), "signature mismatch")

    const stale = slashBody("gpus H100")
    const old = await post(stale.body, sign(stale.body, now() - 6 * 60))
    assert.strictEqual(old.status, 401)
    assert.strictEqual(await old.text(), "stale timestamp")

    const replay = slashBody("gpus L4")
    const headers = sign(replay.body, now())
    assert.strictEqual((await post(replay.body, headers)).status, 200)
    const again = await post(replay.body, headers)
    assert.strictEqual(again.status, 401)
    assert.strictEqual(await again.text(), "replayed request")

    await responseTo(replay.id)
    await new Promise((done) => setTimeout(done, 200))
    assert.deepStrictEqual(slack.calls.filter((call) => [wrong.id, stale.id, replay.id].some((id) => call.path === `/respond/${id}`)).length, 1)
    assert.deepStrictEqual(log.filter((line) => line.startsWith("rejected")), [
      "rejected a request: signature mismatch",
      "rejected a request: stale timestamp",
      "rejected a request: replayed request"
    ])
    assert.isFalse(log.join("\n").includes(signingSecret))
  })

  it("answers /frugal waste with the report's Block Kit, and its buttons explain and list the evidence", async () => {
    const { body, id } = slashBody("waste 7d", "C0WASTE")
    assert.strictEqual((await post(body, sign(body, now()))).status, 200)
    const message = await responseTo(id)
    assertWithinLimits(message)
    assert.match(texts(message).join("\n"), /On-demand hours that could have run on spot/)
    assert.match(message.text, /Spend \$4,614\.56; avoidable \$2,420\.33/)

    const press = (actionId: string, value: string) => {
      const pressId = ++requestId
      const payload = JSON.stringify({
        type: "block_actions",
        user: { id: "U0001" },
        team: { id: "T0001" },
        channel: { id: "C0WASTE" },
        container: { type: "message" },
        trigger_id: `trigger-${pressId}`,
        response_url: `${slack.url}/respond/${pressId}`,
        actions: [{ type: "button", action_id: actionId, block_id: "finding-actions-0", value, action_ts: "1" }]
      })
      const form = new URLSearchParams({ payload }).toString()
      return post(form, sign(form, now())).then((response) => ({ response, pressId }))
    }
    const explain = await press("frugal_explain", "spot-eligible")
    assert.strictEqual(explain.response.status, 200)
    const explanation = await responseTo(explain.pressId)
    assertWithinLimits(explanation)
    assert.match(texts(explanation).join("\n"), /cheapest spot price in a zone whose interruption bucket/)

    const alternatives = await press("frugal_alternatives", "idle-gpu")
    const details = await responseTo(alternatives.pressId)
    assertWithinLimits(details)
    assert.match(texts(details).join("\n"), /i-0b2d4f6a8c0e1a3b5/)
  })

  it("answers /frugal plan with an example workload and offers alternatives", async () => {
    const { body, id } = slashBody("plan llama-7b-finetune")
    assert.strictEqual((await post(body, sign(body, now()))).status, 200)
    const message = await responseTo(id)
    assertWithinLimits(message)
    assert.match(texts(message).join("\n"), /Plan for llama-7b-finetune|Recommended/)
    const buttons = JSON.stringify(message.blocks)
    assert.include(buttons, "frugal_alternatives")
    assert.include(buttons, "frugal_explain")
  })

  it("answers an unknown request with help, and a missing example with the problem", async () => {
    const unknown = slashBody("dance")
    await post(unknown.body, sign(unknown.body, now()))
    assert.match(texts(await responseTo(unknown.id)).join("\n"), /unknown command `dance`/)
    const missing = slashBody("plan no-such-example")
    await post(missing.body, sign(missing.body, now()))
    assert.match(texts(await responseTo(missing.id)).join("\n"), /example: expected the name of an example workload/)
  })
})
