/**
 * `frugal slack serve` at its edges, as a real process against a loopback Slack: no AWS configuration at all
 * (plan, gpus and help still answer; only the answer that needs AWS says so), the two-sided timestamp window and
 * the replay cache, `<!channel>` and friends in anything a user typed, and a port already in use.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type Server } from "node:net"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type LoopbackSlack, sign, signingSecret, startLoopbackSlack, waitFor } from "../packages/slack/test/support/LoopbackSlack.ts"
import { type FrugalProcess, runFrugal, STACK_FRAME, startFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-slack-edges-"))

/** No AWS settings anywhere: no region, no credentials, no config files, no instance metadata. */
const noAws = {
  AWS_REGION: "",
  AWS_DEFAULT_REGION: "",
  AWS_PROFILE: "",
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  AWS_CONFIG_FILE: join(dir, "no-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  HOME: dir,
  FRUGAL_HOME: join(dir, "home"),
  FRUGAL_CACHE_DIR: join(dir, "cache"),
  XDG_CONFIG_HOME: join(dir, "config"),
  FRUGAL_PRICING_CONFIG: ""
}

let slack: LoopbackSlack
let bot: FrugalProcess
let botUrl: string

beforeAll(async () => {
  slack = await startLoopbackSlack()
  bot = startFrugal(["slack", "serve", "--port", "0", "--host", "127.0.0.1"], {
    env: { ...noAws, SLACK_BOT_TOKEN: "xoxb-loopback", SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: `${slack.url}/api/` }
  })
  const port = await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(bot.stderr())?.[1], "the bot to listen", 60_000)
  botUrl = `http://127.0.0.1:${port}/slack/events`
}, 90_000)

afterAll(async () => {
  bot.child.kill("SIGTERM")
  await bot.done
  await slack.close()
  rmSync(dir, { recursive: true, force: true })
})

let requestId = 0
const slash = (text: string) => {
  const id = ++requestId
  const body = new URLSearchParams({
    team_id: "T0001",
    channel_id: "C0EDGES",
    user_id: "U0001",
    command: "/frugal",
    text,
    response_url: `${slack.url}/respond/${id}`,
    trigger_id: `trigger-${id}`
  }).toString()
  return { id, body }
}
const post = (body: string, headers: Record<string, string>) =>
  fetch(botUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", ...headers } })
const nowSeconds = () => Math.floor(Date.now() / 1000)

interface Answer {
  readonly text: string
  readonly blocks: string
  /** Every mrkdwn text object (Slack parses mentions there; plain_text it shows as typed). */
  readonly mrkdwn: ReadonlyArray<string>
}
const mrkdwnTexts = (value: unknown): ReadonlyArray<string> => {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts)
  if (typeof value !== "object" || value === null) return []
  const own = Reflect.get(value, "type") === "mrkdwn" ? [String(Reflect.get(value, "text"))] : []
  return [...own, ...Object.values(value).flatMap(mrkdwnTexts)]
}
const answerTo = async (id: number): Promise<Answer> => {
  const call = await waitFor(() => slack.calls.find((one) => one.path === `/respond/${id}`), `the answer to request ${id}`, 60_000)
  return { text: String(call.body["text"]), blocks: JSON.stringify(call.body["blocks"]), mrkdwn: mrkdwnTexts(call.body["blocks"]) }
}
const ask = async (text: string): Promise<Answer> => {
  const request = slash(text)
  expect((await post(request.body, sign(request.body, nowSeconds()))).status).toBe(200)
  return answerTo(request.id)
}

describe("the bot without any AWS configuration", () => {
  it("answers plan, gpus and help; only /frugal waste says it needs AWS, and nothing reaches the log as a stack trace", async () => {
    const [plan, gpus, help, waste] = await Promise.all([ask("plan llama-7b-finetune"), ask("gpus H100"), ask("help"), ask("waste 7d")])
    expect(plan.text).toMatch(/^llama-7b-finetune: 1× p6-b200\.48xlarge/)
    expect(plan.blocks).toContain("Recommended:")
    expect(gpus.text).toMatch(/^H100 instances in us-east-1: [1-9]\d*$/)
    expect(help.text).toMatch(/^Frugal: \/frugal plan/)
    for (const answer of [plan, gpus, help]) expect(answer.text).not.toContain("Something went wrong")
    expect(waste.text).toMatch(/AWS Cost Explorer GetCostAndUsage in us-east-1 failed: CredentialsProviderError/)
    expect(bot.stderr()).not.toMatch(STACK_FRAME)
    expect(bot.stderr()).not.toContain("bot answer failed")
  }, 90_000)
})

describe("signed requests", () => {
  it("refuses timestamps more than five minutes away on either side, and a replay within the window", async () => {
    const sixMinutesAhead = slash("gpus L4")
    const ahead = await post(sixMinutesAhead.body, sign(sixMinutesAhead.body, nowSeconds() + 6 * 60))
    expect(ahead.status).toBe(401)
    expect(await ahead.text()).toBe("timestamp in the future")

    const tomorrow = slash("gpus L4")
    const dayAhead = await post(tomorrow.body, sign(tomorrow.body, nowSeconds() + 24 * 3600))
    expect(dayAhead.status).toBe(401)

    const sixMinutesAgo = slash("gpus L4")
    const behind = await post(sixMinutesAgo.body, sign(sixMinutesAgo.body, nowSeconds() - 6 * 60))
    expect(behind.status).toBe(401)
    expect(await behind.text()).toBe("stale timestamp")

    // Four minutes ahead is inside the window: accepted once, refused when replayed.
    const soon = slash("gpus L4")
    const headers = sign(soon.body, nowSeconds() + 4 * 60)
    expect((await post(soon.body, headers)).status).toBe(200)
    const replay = await post(soon.body, headers)
    expect(replay.status).toBe(401)
    expect(await replay.text()).toBe("replayed request")
    await answerTo(soon.id)
    expect(slack.calls.filter((call) => [sixMinutesAhead.id, tomorrow.id, sixMinutesAgo.id].some((id) => call.path === `/respond/${id}`))).toEqual([])
  }, 60_000)
})

describe("user text in answers", () => {
  const mentions = /<!channel>|<!here>|<!everyone>|<@U/

  it("is escaped in the notification text and in every mrkdwn field", async () => {
    const [inline, gpu] = await Promise.all([ask("plan <!channel> & <@U0BOSS>"), ask("gpus <!here>")])
    expect(inline.text).toContain("&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;")
    expect(gpu.text).toBe("&lt;!here&gt; instances in us-east-1: 0")
    expect(gpu.mrkdwn).toEqual(["No &lt;!here&gt; instances in us-east-1."])
    for (const answer of [inline, gpu]) {
      expect(answer.text).not.toMatch(mentions)
      expect(answer.mrkdwn.length).toBeGreaterThan(0)
      for (const text of answer.mrkdwn) expect(text).not.toMatch(mentions)
    }
  }, 60_000)

  it("is escaped when it comes back as the Explain button's value", async () => {
    const id = ++requestId
    const payload = JSON.stringify({
      type: "block_actions",
      user: { id: "U0001" },
      team: { id: "T0001" },
      channel: { id: "C0EDGES" },
      container: { type: "message" },
      trigger_id: `trigger-${id}`,
      response_url: `${slack.url}/respond/${id}`,
      actions: [{ type: "button", action_id: "frugal_explain", block_id: "finding-actions-0", value: "<!channel> hi", action_ts: "1" }]
    })
    const form = new URLSearchParams({ payload }).toString()
    expect((await post(form, sign(form, nowSeconds()))).status).toBe(200)
    const answer = await answerTo(id)
    expect(answer.text).toBe("How &lt;!channel&gt; hi is computed")
    expect(answer.mrkdwn[0]).toMatch(/^\*&lt;!channel&gt; hi\*: unknown finding/)
    for (const text of answer.mrkdwn) expect(text).not.toMatch(mentions)
  }, 60_000)
})

describe("slack serve on a port already in use", () => {
  it("is a local failure: exit 1 naming the address, not a bug and not a remote failure", async () => {
    const taken: Server = await new Promise((resolve) => {
      const server = createServer()
      server.listen(0, "127.0.0.1", () => resolve(server))
    })
    try {
      const { port } = taken.address() as AddressInfo
      const run = await runFrugal(["slack", "serve", "--port", String(port), "--host", "127.0.0.1"], {
        env: { ...noAws, SLACK_BOT_TOKEN: "xoxb-loopback", SLACK_SIGNING_SECRET: signingSecret }
      })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`error: cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE)`)
      expect(run.stderr).not.toContain("bug")
      expect(run.stderr).not.toMatch(STACK_FRAME)
    } finally {
      await new Promise((done) => taken.close(() => done(undefined)))
    }
  }, 60_000)

  it("a port that cannot exist is bad input (exit 2)", async () => {
    const run = await runFrugal(["slack", "serve", "--port", "70000"], { env: { ...noAws, SLACK_BOT_TOKEN: "xoxb-loopback", SLACK_SIGNING_SECRET: signingSecret } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--port: expected a port from 0 to 65,535, got 70000")
  }, 60_000)
})
