/**
 * `frugal slack serve --socket-mode` as a real process: its tokens from the environment, its Web API
 * (and so `apps.connections.open`) at SLACK_API_URL on loopback, a slash command answered over the
 * socket, and a missing or wrong app token refused with exit code 2 without echoing it.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type LoopbackSlack, startLoopbackSlack, waitFor } from "./support/LoopbackSlack.ts"
import { type LoopbackSocketMode, slashCommandEnvelope, startLoopbackSocketMode } from "./support/LoopbackSocketMode.ts"

const root = join(import.meta.dirname, "..", "..", "..")
const frugalBin = join(root, "packages/cli/bin/frugal.js")
const home = mkdtempSync(join(tmpdir(), "frugal-slack-socket-"))
const appToken = "xapp-1-A0LOOPBACK-2222-0ddba11c0ffee"
const botToken = "xoxb-loopback-bot-token"
const serveArgs = [
  "slack",
  "serve",
  "--socket-mode",
  "--ce-file",
  join(root, "examples/waste/cost-explorer"),
  "--utilization-file",
  join(root, "examples/waste/gpu-utilization.json")
]

const start = (env: Record<string, string>): { readonly child: ChildProcessWithoutNullStreams; readonly stderr: () => string } => {
  // The test runs on the pinned Node (through pnpm); the child uses the same binary.
  const child = spawn(process.execPath, [frugalBin, ...serveArgs], {
    cwd: root,
    env: {
      ...process.env,
      FRUGAL_HOME: home,
      FRUGAL_DEBUG: "",
      NO_COLOR: "1",
      SLACK_BOT_TOKEN: "",
      SLACK_APP_TOKEN: "",
      SLACK_SIGNING_SECRET: "",
      SLACK_API_URL: "",
      ...env
    }
  })
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  child.stdout.resume()
  child.stdin.end()
  return { child, stderr: () => stderr }
}

const exitOf = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((done) => child.exitCode !== null ? done(child.exitCode) : child.on("close", (code) => done(code)))

let slack: LoopbackSlack
let link: LoopbackSocketMode
beforeAll(async () => {
  slack = await startLoopbackSlack()
  link = startLoopbackSocketMode(slack)
})
afterAll(async () => {
  await link.close()
  await slack.close()
  rmSync(home, { recursive: true, force: true })
})

describe("frugal slack serve --socket-mode", () => {
  it("connects with SLACK_APP_TOKEN and answers /frugal gpus H100 over the socket", async () => {
    const serve = start({ SLACK_BOT_TOKEN: botToken, SLACK_APP_TOKEN: appToken, SLACK_API_URL: `${slack.url}/api/` })
    try {
      await waitFor(() => serve.stderr().includes("connected over Socket Mode") ? true : undefined, "the bot to connect", 60_000)
      const open = slack.calls.find((call) => call.path === "/api/apps.connections.open")
      assert.strictEqual(open?.authorization, `Bearer ${appToken}`)

      link.sockets[0]?.send(slashCommandEnvelope("cli-envelope-1", "gpus H100", `${slack.url}/respond/cli-1`))
      const ack = await waitFor(() => link.received.find((one) => one.message["envelope_id"] === "cli-envelope-1"), "the acknowledgement")
      assert.deepStrictEqual(ack.message, { envelope_id: "cli-envelope-1", payload: {} })
      const answer = await waitFor(() => slack.calls.find((call) => call.path === "/respond/cli-1"), "the answer")
      assert.match(String(answer.body["text"]), /H100 instances in us-east-1/)
      assert.match(JSON.stringify(answer.body["blocks"]), /\*p5\.48xlarge\* 8× H100/)
    } finally {
      serve.child.kill("SIGTERM")
      await exitOf(serve.child)
    }
    assert.isFalse(serve.stderr().includes(appToken))
    assert.isFalse(serve.stderr().includes(botToken))
  }, 90_000)

  it("refuses to start without an app token, or with a token that is not an xapp- token, naming the variable", async () => {
    const missing = start({ SLACK_BOT_TOKEN: botToken })
    assert.strictEqual(await exitOf(missing.child), 2)
    assert.match(missing.stderr(), /SLACK_APP_TOKEN/)
    assert.notMatch(missing.stderr(), /^\s+at\s/m)

    const wrong = start({ SLACK_BOT_TOKEN: botToken, SLACK_APP_TOKEN: "xoxb-not-an-app-token-123" })
    assert.strictEqual(await exitOf(wrong.child), 2)
    assert.match(wrong.stderr(), /SLACK_APP_TOKEN.*xapp-/)
    assert.isFalse(wrong.stderr().includes("xoxb-not-an-app-token-123"))
  }, 60_000)
})
