/**
 * docs/sdk.md is what the SDK does today: every example it shows is an `examples/sdk/` file, verbatim, and prints
 * what the page says it prints when run again (`node scripts/sdk-doc-examples.ts` rewrites the page). Every method
 * of `Frugal.make()` is called by one of them. The two that need AWS run against loopback servers that speak the
 * real AWS wire formats, through the real AWS SDK clients.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Frugal } from "@frugal/sdk"
import { type FakeAws, standardRegion, startFakeAws } from "../packages/pricing/test/support/FakeAws.ts"
import { type FakeAccount, startFakeAutoScaling } from "../packages/serving/test/support/FakeAutoScaling.ts"
import { docExamples, renderSection, root, runExample, SDK_DOC } from "../scripts/sdk-doc-examples.ts"
import type { LoopbackServer } from "./support/aws/LoopbackServer.ts"
import { startServer, tinyWorkload, writeConfig } from "./support/frugalServer.ts"

const document = readFileSync(SDK_DOC, "utf8")
const examples = docExamples(document)
const exampleFiles = readdirSync(join(root, "examples", "sdk")).filter((name) => name.endsWith(".ts")).map((name) => `examples/sdk/${name}`)
const source = (file: string): string => readFileSync(join(root, file), "utf8")

/** What the page says an example prints: the `text` block after "prints:". */
const printed = (section: string): string | undefined => /\nprints:\n\n```text\n([\s\S]*?)\n```\n/.exec(section)?.[1]

describe("docs/sdk.md", () => {
  it("shows every examples/sdk file but the tour (which has its own test), each verbatim", () => {
    expect(examples.map((example) => example.file).sort()).toEqual(exampleFiles.filter((file) => !file.endsWith("/tour.ts")).sort())
    for (const example of examples) {
      expect(example.section.replace(/\n\nprints:\n[\s\S]*$/, `\n${"<!-- /example -->"}`), example.file).toBe(renderSection(example.file, example.aws, null))
    }
  })

  it("calls every method of Frugal.make() in one of the examples", async () => {
    await using frugal = Frugal.make()
    const methods = [
      ...Object.keys(frugal).filter((name) => name !== "service" && typeof Reflect.get(frugal, name) === "function"),
      ...Object.keys(frugal.service).map((name) => `service.${name}`)
    ]
    expect(methods).toEqual(expect.arrayContaining(["plan", "run", "resume", "status", "logs", "drill", "report", "service.apply"]))
    const calls = exampleFiles.map(source).join("\n")
    // `dispose` is what `await using` calls.
    const uncalled = methods.filter((method) => method !== "dispose" && !calls.includes(`frugal.${method}(`))
    expect(uncalled).toEqual([])
  })

  it.each(examples.filter((example) => !example.aws).map((example) => example.file))("%s prints what the page shows", async (file) => {
    const section = examples.find((example) => example.file === file)?.section ?? ""
    const run = await runExample(file)
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    expect(run.stdout.trimEnd()).toBe(printed(section))
  }, 180_000)
})

describe("the examples that need AWS, against a loopback AWS", () => {
  let pricing: FakeAws
  let autoScaling: LoopbackServer
  let account: FakeAccount
  beforeAll(async () => {
    pricing = await startFakeAws(new Map([["us-east-1", standardRegion("us-east-1")]]))
    ;({ server: autoScaling, account } = await startFakeAutoScaling(new Map([
      ["subnet-0aaa1111", { name: "us-east-2a", id: "use2-az1" }],
      ["subnet-0bbb2222", { name: "us-east-2b", id: "use2-az2" }],
      ["subnet-0ccc3333", { name: "us-east-2c", id: "use2-az3" }]
    ])))
  })
  afterAll(async () => {
    await pricing.close()
    await autoScaling.close()
  })
  const credentials = { AWS_ACCESS_KEY_ID: "AKIDLOOPBACKTEST", AWS_SECRET_ACCESS_KEY: "loopback-secret", AWS_MAX_ATTEMPTS: "2" }

  it("queue.ts submits to a real frugal server, reads why the job waits (the team's budget) and cancels it", async () => {
    const home = mkdtempSync(join(tmpdir(), "frugal-sdk-queue-"))
    // The team's budget holds one job's reservation ($0.25) at a time, and a long job holds it: the example's waits.
    const config = writeConfig(home, "scheduler.yaml", "teams: [{ name: docs, tokenEnv: FRUGAL_TOKEN_DOCS, monthlyBudgetUsd: 0.3, maxGpus: 8 }]\nmaxGpus: 8\npassEverySeconds: 0.2\n")
    const local = writeConfig(home, "local.yaml", "local: { hourlyPriceUsd: 1 }\n")
    const token = "docs-team-token-0123456789"
    const server = await startServer(["--config", config, "--infra", local], { FRUGAL_HOME: home, FRUGAL_TOKEN_DOCS: token })
    await using frugal = Frugal.make({ env: { FRUGAL_SERVER: server.url, FRUGAL_TOKEN: token } })
    try {
      const long = await frugal.submit(tinyWorkload("holds-the-budget", { budgetUsd: 0.25, steps: 100_000 }))
      for (let i = 0; i < 100 && (await frugal.queue({ state: "running" })).jobs.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
      const run = await runExample("examples/sdk/queue.ts", { FRUGAL_SERVER: server.url, FRUGAL_TOKEN: token })
      expect(run.stderr).toBe("")
      expect(run.status).toBe(0)
      const [submitted, ...rest] = run.stdout.trimEnd().split("\n")
      const id = /^submitted: (tiny-train-\d{8}-\d{6}-[0-9a-f]{4}) queued, expected \$\d+\.\d\d$/.exec(submitted ?? "")?.[1]
      expect(id, submitted).toBeDefined()
      expect(rest.at(-1)).toBe(`cancel: ${id} cancelled`)
      // Listed while it waits: for the budget once a scheduling pass has seen it, "its turn" before.
      expect(rest.slice(0, -1)).toEqual([expect.stringMatching(new RegExp(`^queued: ${id} \\(docs, priority 5\\) waits for (budget|its turn)$`))])
      await frugal.cancel(long.id)
    } finally {
      await server.kill("SIGTERM")
      rmSync(home, { recursive: true, force: true })
    }
  }, 120_000)

  it("prices.ts refreshes us-east-1's on-demand and spot prices, then lists the H100 types from the cache", async () => {
    const run = await runExample("examples/sdk/prices.ts", { ...credentials, AWS_ENDPOINT_URL: pricing.url, AWS_REGION: "us-east-1" })
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    const lines = run.stdout.trimEnd().split("\n")
    // The instance types come with any kind: what each type holds is needed to price it.
    expect(lines.filter((line) => line.startsWith("  ")).map((line) => line.replace(/\d\/3 /, "")).sort()).toEqual([
      "  us-east-1 instance-types: done",
      "  us-east-1 on-demand: done",
      "  us-east-1 spot: done"
    ])
    expect(lines.at(-2)).toMatch(/^refresh: complete, us-east-1 \d+ offers$/)
    // The loopback region has one H100 type (p5.48xlarge); the cache answers, not the embedded snapshot.
    expect(lines.at(-1)).toBe("gpus: 1 H100 types from cache")
    expect(pricing.calls.some((call) => call.startsWith("GetProducts us-east-1"))).toBe(true)
  })

  it("service-aws.ts creates the Auto Scaling group, reads its replicas and deletes everything it made", async () => {
    const run = await runExample("examples/sdk/service-aws.ts", {
      ...credentials,
      AWS_ENDPOINT_URL_AUTO_SCALING: autoScaling.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: autoScaling.url,
      AWS_ENDPOINT_URL_EC2: autoScaling.url,
      AWS_REGION: "us-east-2"
    })
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    const [applied, status, deleted] = run.stdout.trimEnd().split("\n")
    expect(applied).toBe("apply: frugal-chat-8b-service created in us-east-2")
    const counts = /^status: (\d+) desired, (\d+) on demand, (\d+) spot$/.exec(status ?? "")
    expect(counts).not.toBeNull()
    expect(Number(counts?.[2]) + Number(counts?.[3])).toBe(Number(counts?.[1]))
    expect(Number(counts?.[2])).toBeGreaterThanOrEqual(1)
    expect(deleted).toBe("delete: group deleted: true")
    expect([account.groups.size, account.policies.size, account.alarms.size]).toEqual([0, 0, 0])
  })
})
