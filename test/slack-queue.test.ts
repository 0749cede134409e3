/**
 * `/frugal submit` and `/frugal queue` in Slack, with the queue's Cancel button, through `frugal server`: both the
 * bot (`frugal slack serve`) and the server are real processes, Slack is a loopback stand-in. The bot holds a team's
 * token (FRUGAL_SERVER, FRUGAL_TOKEN) and decides nothing itself: the server checks, prices, queues and cancels.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type LoopbackSlack, sign, signingSecret, startLoopbackSlack, waitFor } from "../packages/slack/test/support/LoopbackSlack.ts"
import { type FrugalProcess, startFrugal, STACK_FRAME } from "./support/frugalCli.ts"
import { jobState, type RunningServer, startServer, writeConfig } from "./support/frugalServer.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-slack-queue-"))
const TOKEN = "slack-team-token-0123456789"
let slack: LoopbackSlack
let server: RunningServer
let bot: FrugalProcess
let botUrl: string

beforeAll(async () => {
  slack = await startLoopbackSlack()
  // One job's reservation (0.25) at a time: a second submission waits for budget.
  const config = writeConfig(dir, "scheduler.yaml", "teams: [{ name: ml, tokenEnv: FRUGAL_TOKEN_ML, monthlyBudgetUsd: 0.3, maxGpus: 8 }]\nmaxGpus: 8\npassEverySeconds: 0.5\n")
  const infra = writeConfig(dir, "infra.yaml", "local: { hourlyPriceUsd: 1 }\n")
  server = await startServer(["--config", config, "--infra", infra], { FRUGAL_HOME: join(dir, "home"), FRUGAL_TOKEN_ML: TOKEN })
  bot = startFrugal(["slack", "serve", "--port", "0", "--host", "127.0.0.1", "--examples", "examples/run"], {
    env: {
      SLACK_BOT_TOKEN: "xoxb-loopback",
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_API_URL: `${slack.url}/api/`,
      FRUGAL_SERVER: server.url,
      FRUGAL_TOKEN: TOKEN,
      AWS_EC2_METADATA_DISABLED: "true"
    }
  })
  const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(bot.stderr())?.[1], "the bot to listen", 60_000)
  botUrl = `http://127.0.0.1:${port}/slack/events`
}, 120_000)

afterAll(async () => {
  bot.child.kill("SIGTERM")
  await bot.done
  await server.kill("SIGTERM")
  await slack.close()
  rmSync(dir, { recursive: true, force: true })
})

let requestId = 0
const post = (body: string) =>
  fetch(botUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", ...sign(body, Math.floor(Date.now() / 1000)) } })

const answerTo = async (id: number) => {
  const call = await waitFor(() => slack.calls.find((one) => one.path === `/respond/${id}`), `the answer to request ${id}`, 60_000)
  return { text: String(call.body["text"]), blocks: JSON.stringify(call.body["blocks"]), raw: call.body["blocks"] }
}

const ask = async (text: string) => {
  const id = ++requestId
  const body = new URLSearchParams({
    team_id: "T0001", channel_id: "C0QUEUE", user_id: "U0001", command: "/frugal", text,
    response_url: `${slack.url}/respond/${id}`, trigger_id: `trigger-${id}`
  }).toString()
  expect((await post(body)).status).toBe(200)
  return answerTo(id)
}

const press = async (value: string) => {
  const id = ++requestId
  const payload = JSON.stringify({
    type: "block_actions", user: { id: "U0001" }, team: { id: "T0001" }, channel: { id: "C0QUEUE" }, container: { type: "message" },
    trigger_id: `trigger-${id}`, response_url: `${slack.url}/respond/${id}`,
    actions: [{ type: "button", action_id: "frugal_cancel", block_id: `cancel-${value}`, value, action_ts: "1" }]
  })
  expect((await post(new URLSearchParams({ payload }).toString())).status).toBe(200)
  return answerTo(id)
}

const inline = (name: string) =>
  JSON.stringify({
    name,
    kind: "training",
    model: { parameters: "120K", precision: "fp32", layers: 2, hiddenSize: 64, heads: 4, vocabSize: 256 },
    training: { tokens: 5120, sequenceLength: 32, microBatchSize: 4 },
    constraints: { budgetUsd: 0.25 }
  })

describe("the bot's queue commands", () => {
  it("submits through the server, lists the queue with why each job waits, and cancels from the button", async () => {
    const first = await ask(`submit ${inline("slack-first")}`)
    expect(first.text).toMatch(/^Queued slack-first-\d{8}-\d{6}-[0-9a-f]{4}$/)
    const second = await ask(`submit --priority 2 ${inline("slack-second")}`)
    const secondId = /^Queued (\S+)$/.exec(second.text)?.[1] ?? ""
    let queue = await ask("queue")
    for (let i = 0; i < 30 && !queue.blocks.includes("waits for budget"); i++) queue = await ask("queue")
    expect(queue.text).toMatch(/^Queue: 2 waiting or running$/)
    expect(queue.blocks).toContain(`\`${secondId}\`: queued (waits for budget)`)
    expect(queue.blocks).toContain(`"action_id":"frugal_cancel"`)
    expect(queue.blocks).toContain(`"value":"${secondId}"`)

    const cancelled = await press(secondId)
    expect(cancelled.text).toBe(`${secondId}: cancelled`)
    expect((await jobState(server.url, TOKEN, secondId)).state).toBe("cancelled")
  }, 120_000)

  it("passes the server's refusal on, naming the field: an example without constraints.budgetUsd", async () => {
    const refused = await ask("submit tiny-train")
    expect(refused.blocks).toContain("workload.constraints.budgetUsd")
    const unknown = await ask("submit no-such-example")
    expect(unknown.blocks).toContain("expected the name of an example workload")
    const badPriority = await ask("submit --priority high tiny-train")
    expect(badPriority.blocks).toContain("`--priority` takes a whole number from -1000 to 1000")
    expect(bot.stderr()).not.toMatch(STACK_FRAME)
    expect(bot.stderr()).not.toContain(TOKEN)
  }, 60_000)
})
