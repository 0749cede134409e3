import { assert, describe, it } from "@effect/vitest"
import { analyzeWaste, type Finding, MAX_BLOCKS, MAX_TEXT, renderBlockKit, type WasteReport } from "@frugal/waste"
import { EmbeddedCatalog } from "@frugal/pricing"
import { WebClient } from "@slack/web-api"
import { Effect } from "effect"
import { slackDestination } from "../src/SlackDelivery.ts"
import { parseDestinations } from "../src/ScheduledReports.ts"
import { startLoopbackSlack } from "./support/LoopbackSlack.ts"

const period = { start: "2026-11-02", end: "2026-11-09" }

/** A report far beyond Slack's limits: 30 findings, long titles, 40 pieces of evidence each. */
const hugeReport = (): WasteReport => {
  const base = analyzeWaste({
    costs: { period, compute: [], zones: [], usageTypes: [], reservations: [], savingsPlans: [], adjustments: [] },
    catalog: EmbeddedCatalog.catalog()
  })
  const finding = (index: number): Finding => ({
    kind: "idle-gpu",
    title: `Idle GPUs in fleet ${index} ${"with a very long description ".repeat(20)}`,
    costUsd: 1000 - index,
    monthlySavingsUsd: 4000,
    action: `Stop <the> idle & instances ${"now ".repeat(1000)}`,
    evidence: Array.from({ length: 40 }, (_, n) => ({
      subject: `i-${index}-${n}`,
      instanceType: "g5.12xlarge",
      from: null,
      to: null,
      hours: 1,
      costUsd: 1,
      detail: "x".repeat(5000)
    }))
  })
  return { ...base, totalCostUsd: 100_000, findings: Array.from({ length: 30 }, (_, index) => finding(index)) }
}

describe("weekly digest", () => {
  it("keeps any report within Block Kit limits", () => {
    const message = renderBlockKit(hugeReport())
    assert.isAtMost(message.blocks.length, MAX_BLOCKS)
    const serialized = JSON.stringify(message.blocks)
    for (const match of serialized.match(/"text":"(?:[^"\\]|\\.)*"/g) ?? []) {
      assert.isAtMost((JSON.parse(match.slice(7)) as string).length, MAX_TEXT)
    }
    assert.include(serialized, "&lt;the&gt; idle &amp; instances", "mrkdwn control characters are escaped")
    assert.match(serialized, /20 smaller finding\(s\) not shown/)
  })

  it.live("posts the digest with chat.postMessage through the Web API base URL", () =>
    Effect.gen(function*() {
      const slack = yield* Effect.acquireRelease(Effect.promise(startLoopbackSlack), (server) => Effect.promise(server.close))
      const client = new WebClient("xoxb-loopback-token", { slackApiUrl: `${slack.url}/api/`, retryConfig: { retries: 0 } })
      const destination = slackDestination(client, "#finops")
      assert.strictEqual(destination.name, "slack:#finops")
      yield* destination.deliver(hugeReport())
      assert.strictEqual(slack.calls.length, 1)
      const call = slack.calls[0]
      assert.strictEqual(call?.path, "/api/chat.postMessage")
      assert.strictEqual(call?.body["channel"], "#finops")
      const blocks = call?.body["blocks"]
      assert.isTrue(Array.isArray(blocks))
      assert.isAtMost(Array.isArray(blocks) ? blocks.length : Infinity, MAX_BLOCKS)
      assert.isAtMost(String(call?.body["text"]).length, MAX_TEXT)
    }))

  it.effect("reads destinations from --to and rejects unknown ones naming the flag", () =>
    Effect.gen(function*() {
      const error = yield* parseDestinations(["email:ops@example.com"]).pipe(Effect.flip)
      assert.strictEqual(error.message, "--to: --to: expected slack:#channel (or slack:C0123456789) or file:DIRECTORY, got email:ops@example.com")
    }))
})
