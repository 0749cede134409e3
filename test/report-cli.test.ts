/**
 * `frugal report` through the real process on the example week in examples/waste: the JSON contract of
 * ARCHITECTURE.md with the dollars worked out by hand (packages/waste/test/ExampleData.test.ts explains
 * each), Markdown, Block Kit within Slack's limits, the HTML page written atomically, bad inputs, --since,
 * and GPU utilisation from a loopback Prometheus API serving the example week as dcgm-exporter series.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import {
  apiError,
  isUtilizationQuery,
  matrixFromMetricData,
  startLoopbackPrometheus,
  success
} from "../packages/waste/test/support/LoopbackPrometheus.ts"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-report-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// An empty FRUGAL_HOME: no ledger, so the report reads only the example files.
const env = { FRUGAL_HOME: join(dir, "home") }
const ceDir = example("waste/cost-explorer")
const utilizationFile = example("waste/gpu-utilization.json")
const exampleFlags = ["--ce-file", ceDir, "--utilization-file", utilizationFile]
const report = (...args: Array<string>) => runFrugal(["report", ...args], { env })

const HOURS = 7 * 24
/** Spend of the example week: g5.12xlarge ×2, p4d on demand 3 days + spot 2 days, g6e.xlarge, the RI, transfer. */
const TOTAL_USD = 7 * 48 * 5.672 + 3 * 24 * 21.957642 + 2 * 24 * 6.5323 + 7 * 24 * 1.861 + 7 * 24 * 2.5037 + 2 * 30 + 7 * 3
const EXPECTED_USD: Record<string, number> = {
  "spot-eligible": 72 * (21.957642 - 6.5323),
  "commitment-opportunity": (336 - 42) * (5.672 - 3.4032),
  "idle-gpu": 168 * 5.672 / 4,
  "oversized-gpu": 168 * (1.861 - 0.526),
  "unused-commitment": 48 * 2.5037,
  "cross-region-transfer": 2 * 1500 * 0.02
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null
const field = (value: unknown, key: string): unknown => (isRecord(value) ? value[key] : undefined)
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

describe("frugal report on the example week", () => {
  it("--format json prints { period, totalCostUsd, findings } with the hand-computed dollars, adding up to at most the spend", async () => {
    const run = await report(...exampleFlags, "--format", "json")
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const output: unknown = JSON.parse(run.stdout)
    expect(output).toMatchObject({ period: { start: "2026-11-02", end: "2026-11-09" } })
    expect(field(output, "totalCostUsd")).toBe(Math.round(TOTAL_USD * 100) / 100)
    expect(field(output, "totalCostUsd")).toBe(4614.56)
    const findings = list(field(output, "findings"))
    expect(findings.map((finding) => field(finding, "kind"))).toEqual([
      "spot-eligible",
      "commitment-opportunity",
      "idle-gpu",
      "oversized-gpu",
      "unused-commitment",
      "cross-region-transfer"
    ])
    let findingsUsd = 0
    for (const finding of findings) {
      const kind = String(field(finding, "kind"))
      const costUsd = Number(field(finding, "costUsd"))
      expect(costUsd, kind).toBe(Math.round((EXPECTED_USD[kind] ?? Number.NaN) * 100) / 100)
      // A 730-hour month from a 168-hour week, rounded to cents.
      expect(Number(field(finding, "monthlySavingsUsd")), kind).toBeCloseTo((EXPECTED_USD[kind] ?? Number.NaN) * 730 / HOURS, 2)
      expect(String(field(finding, "action")).length, kind).toBeGreaterThan(20)
      const evidence = list(field(finding, "evidence"))
      expect(evidence.length, kind).toBeGreaterThan(0)
      for (const item of evidence) {
        expect(Object.keys(isRecord(item) ? item : {}).sort()).toEqual(["costUsd", "detail", "from", "hours", "instanceType", "subject", "to"])
        expect(String(field(item, "subject"))).not.toBe("")
      }
      // Each finding's evidence carries its dollars (to the cent, after rounding each item).
      expect(evidence.reduce((sum: number, item) => sum + Number(field(item, "costUsd")), 0)).toBeCloseTo(costUsd, 1)
      findingsUsd += costUsd
    }
    expect(findingsUsd).toBeCloseTo(2420.33, 2)
    expect(findingsUsd).toBeLessThanOrEqual(Number(field(output, "totalCostUsd")))
    const idle = findings.find((finding) => field(finding, "kind") === "idle-gpu")
    expect(field(list(field(idle, "evidence"))[0], "subject")).toBe("i-0b2d4f6a8c0e1a3b5")
    expect(field(list(field(idle, "evidence"))[0], "hours")).toBe(168)
  })

  it("--format md prints the summary, a table of findings and each finding's evidence", async () => {
    const run = await report(...exampleFlags, "--format", "md")
    expect(run.code).toBe(0)
    const lines = run.stdout.split("\n")
    expect(lines[0]).toBe("# GPU spend and waste, 2026-11-02 to 2026-11-09")
    expect(run.stdout).toContain("Spend $4,614.56; avoidable $2,420.33 (52.4% of spend), about $10,516.92 a month.")
    expect(lines).toContain("| 1 | Could be spot | $1,110.62 | $4,825.93 | " +
      "Run the interruptible part of the p4d.24xlarge work (checkpointed training, batch) on spot with `frugal run`, " +
      "which checkpoints and falls back to on-demand when the deadline needs it. |")
    expect(lines.filter((line) => /^## \d\. /.test(line))).toHaveLength(6)
    expect(lines.filter((line) => line.startsWith("| Evidence |"))).toHaveLength(6)
  })

  it("--format slack prints a Block Kit message within Slack's limits", async () => {
    const run = await report(...exampleFlags, "--format", "slack")
    expect(run.code).toBe(0)
    const message: unknown = JSON.parse(run.stdout)
    expect(String(field(message, "text"))).toMatch(/^GPU waste 2026-11-02 to 2026-11-09: Spend \$4,614\.56; avoidable \$2,420\.33/)
    const blocks = list(field(message, "blocks"))
    expect(blocks.length).toBeLessThanOrEqual(50)
    expect(field(blocks[0], "type")).toBe("header")
    expect(String(field(field(blocks[0], "text"), "text")).length).toBeLessThanOrEqual(150)
    const texts: Array<string> = []
    for (const block of blocks) {
      const type = field(block, "type")
      if (type === "section") texts.push(String(field(field(block, "text"), "text")))
      if (type === "context") {
        const elements = list(field(block, "elements"))
        expect(elements.length).toBeGreaterThan(0)
        expect(elements.length).toBeLessThanOrEqual(10)
        for (const element of elements) texts.push(String(field(element, "text")))
      }
      if (type === "actions") {
        for (const button of list(field(block, "elements"))) {
          expect(String(field(field(button, "text"), "text")).length).toBeLessThanOrEqual(75)
          expect(String(field(button, "value")).length).toBeLessThanOrEqual(2000)
        }
      }
    }
    for (const text of texts) {
      expect(text.length).toBeGreaterThan(0)
      expect(text.length).toBeLessThanOrEqual(3000)
    }
    const findingSections = blocks.filter((block) => String(field(block, "block_id")).startsWith("finding-") && field(block, "type") === "section")
    expect(findingSections).toHaveLength(6)
    expect(String(field(field(findingSections[0], "text"), "text"))).toContain("$1,110.62 this period, about $4,825.93 a month")
  })

  it("--format html --out FILE writes the whole page atomically, replacing an older report and leaving no temp file", async () => {
    const outDir = join(dir, "html")
    mkdirSync(outDir, { recursive: true })
    const out = join(outDir, "report.html")
    writeFileSync(out, "<!doctype html><p>last week's report</p>\n")
    const run = await report(...exampleFlags, "--format", "html", "--out", out)
    expect(run.code).toBe(0)
    expect(run.stdout).toBe("")
    expect(run.stderr.trim()).toBe(`Wrote html report to ${out}: Spend $4,614.56; avoidable $2,420.33 (52.4% of spend), about $10,516.92 a month.`)
    const html = readFileSync(out, "utf8")
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html.trimEnd().endsWith("</html>")).toBe(true)
    expect(html.match(/<svg/g)?.length).toBe(3)
    expect(html).toContain("$4,614.56")
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/)
    expect(readdirSync(outDir)).toEqual(["report.html"])
  })

  it("never replaces a good report when the run fails, and leaves no partial file", async () => {
    const outDir = join(dir, "keep")
    mkdirSync(outDir, { recursive: true })
    const out = join(outDir, "report.html")
    const good = "<!doctype html><p>the good report</p>\n"
    writeFileSync(out, good)
    const brokenCe = join(dir, "broken-ce")
    cpSync(ceDir, brokenCe, { recursive: true })
    const costFile = join(brokenCe, "cost-by-instance-type.json")
    writeFileSync(costFile, readFileSync(costFile, "utf8").replace(/"Amount": "[0-9.]+"/, "\"Amount\": \"lots\""))
    const [badInput, outIsDirectory] = await Promise.all([
      report("--ce-file", brokenCe, "--utilization-file", utilizationFile, "--format", "html", "--out", out),
      // A directory where the file should go: the temp file is written, the rename fails, the temp is removed.
      report(...exampleFlags, "--format", "html", "--out", outDir)
    ])
    expect(badInput.code).toBe(2)
    // A local failure, not a remote service's: exit 1 with the reason, not 4.
    expect(outIsDirectory.code).toBe(1)
    expect(outIsDirectory.stderr).toContain(`error: cannot write ${outDir}: is a directory (EISDIR)`)
    expect(outIsDirectory.stderr).not.toContain("bug")
    expect(outIsDirectory.stderr).not.toMatch(STACK_FRAME)
    expect(readFileSync(out, "utf8")).toBe(good)
    expect(readdirSync(outDir)).toEqual(["report.html"])
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([])
  })

  it("without utilisation data says idle and oversized GPUs were not checked", async () => {
    const run = await report("--ce-file", ceDir, "--format", "json")
    expect(run.code).toBe(0)
    const kinds = list(field(JSON.parse(run.stdout), "findings")).map((finding) => field(finding, "kind"))
    expect(kinds).not.toContain("idle-gpu")
    expect(kinds).not.toContain("oversized-gpu")
    expect(kinds).toContain("unused-commitment")
    const md = await report("--ce-file", ceDir)
    expect(md.stdout).toContain("No GPU utilisation data: idle and oversized GPUs not checked.")
  })
})

describe("frugal report with bad input", () => {
  const badFile = (name: string, content: string): string => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  it("exits 2 naming the file and the field, with no stack trace and nothing on stdout", async () => {
    const amount = badFile(
      "amount.json",
      readFileSync(join(ceDir, "cost-by-instance-type.json"), "utf8").replace(/"Amount": "[0-9.]+"/, "\"Amount\": \"lots\"")
    )
    const label = badFile("label.json", JSON.stringify({ MetricDataResults: [{ Label: "gpu0 util", Timestamps: [], Values: [] }] }))
    const notJson = badFile("not-json.json", "{ \"ResultsByTime\": [")
    const cases: ReadonlyArray<{ readonly args: ReadonlyArray<string>; readonly mentions: ReadonlyArray<string> }> = [
      {
        args: ["--ce-file", amount],
        mentions: [amount, "ResultsByTime[0].Groups[0].Metrics.AmortizedCost.Amount", "a decimal number in a string", "\"lots\""]
      },
      {
        args: ["--ce-file", ceDir, "--utilization-file", label],
        mentions: [label, "MetricDataResults[0].Label", "<InstanceId> <InstanceType> <gpu index>", "\"gpu0 util\""]
      },
      { args: ["--ce-file", notJson], mentions: [notJson, "a JSON document"] },
      { args: ["--ce-file", join(dir, "missing.json")], mentions: [join(dir, "missing.json"), "a readable file or directory"] },
      { args: ["--ce-file", ceDir, "--utilization-file", join(dir, "missing.json")], mentions: ["missing.json", "a readable file"] },
      { args: ["--ce-file", ceDir, "--format", "pdf"], mentions: ["--format", "\"pdf\"", "\"md\" | \"html\" | \"json\" | \"slack\""] }
    ]
    const runs = await Promise.all(cases.map((one) => report(...one.args)))
    cases.forEach((one, i) => {
      const run = runs[i]
      const label = one.args.join(" ")
      expect(run?.code, label).toBe(2)
      expect(run?.stdout, label).toBe("")
      expect(run?.stderr, label).not.toMatch(STACK_FRAME)
      for (const mention of one.mentions) expect(run?.stderr, label).toContain(mention)
    })
  })
})

describe("frugal report --since", () => {
  it("accepts days, weeks and a past date; files report the period they cover", async () => {
    const runs = await Promise.all(["4w", "30d", "2026-11-01"].map((since) => report("--ce-file", ceDir, "--since", since, "--format", "json")))
    for (const run of runs) {
      expect(run.code).toBe(0)
      expect(field(JSON.parse(run.stdout), "period")).toEqual({ start: "2026-11-02", end: "2026-11-09" })
    }
  })

  it("exits 2 naming --since for zero days, more than 366 days, a word and a future date", async () => {
    const values = ["0d", "367d", "tomorrow", "2999-01-01"]
    const runs = await Promise.all(values.map((since) => report("--ce-file", ceDir, "--since", since)))
    runs.forEach((run, i) => {
      expect(run.code, values[i]).toBe(2)
      expect(run.stderr, values[i]).toContain(
        `--since: expected a number of days or weeks (30d, 4w; at most 366 days) or a past date (2026-11-01), got ${values[i]}`
      )
      expect(run.stderr).not.toMatch(STACK_FRAME)
    })
  })
})

describe("frugal report --prometheus-url", () => {
  const metricData: unknown = JSON.parse(readFileSync(utilizationFile, "utf8"))

  it("reads GPU utilisation from Prometheus (a 503 retried) and finds what the CloudWatch file finds", async () => {
    const server = await startLoopbackPrometheus((query, calls) =>
      isUtilizationQuery(query) && calls === 1
        ? apiError(503, "unavailable", "warming up")
        : success(matrixFromMetricData(metricData, query))
    )
    try {
      const [prometheus, cloudWatch] = await Promise.all([
        report("--ce-file", ceDir, "--prometheus-url", server.url, "--format", "json"),
        report(...exampleFlags, "--format", "json")
      ])
      expect(prometheus.stderr).toBe("")
      expect(prometheus.code).toBe(0)
      expect(JSON.parse(prometheus.stdout)).toEqual(JSON.parse(cloudWatch.stdout))
      const findings = list(field(JSON.parse(prometheus.stdout), "findings"))
      const idle = findings.find((finding) => field(finding, "kind") === "idle-gpu")
      expect(field(idle, "costUsd")).toBe(238.22)
      expect(server.requests.map((query) => [isUtilizationQuery(query), query.path, query.step])).toEqual([
        [true, "/api/v1/query_range", "3600"],
        [true, "/api/v1/query_range", "3600"],
        [false, "/api/v1/query_range", "3600"]
      ])
    } finally {
      await server.close()
    }
  })

  it("a rejected query makes a partial report naming Prometheus's error (exit 5); a bad URL or two utilisation sources exit 2", async () => {
    const server = await startLoopbackPrometheus(() => apiError(422, "execution", "expanding series: too many samples"))
    try {
      const [rejected, badUrl, both] = await Promise.all([
        report("--ce-file", ceDir, "--prometheus-url", server.url),
        report("--ce-file", ceDir, "--prometheus-url", "prometheus:9090x"),
        report(...exampleFlags, "--prometheus-url", server.url)
      ])
      // The report keeps the spend and the findings that need no utilisation, and names what failed.
      expect(rejected.code).toBe(5)
      expect(rejected.stdout).toContain("Spend $4,614.56")
      expect(rejected.stdout).toContain(
        `- Could not read Prometheus at ${server.url} query_range DCGM_FI_DEV_GPU_UTIL: HTTP 422: execution: expanding series: too many samples`
      )
      expect(rejected.stderr.trim()).toBe(
        `error: the report is partial: Prometheus at ${server.url} query_range DCGM_FI_DEV_GPU_UTIL: HTTP 422: execution: expanding series: too many samples`
      )
      expect(badUrl.code).toBe(2)
      expect(badUrl.stderr).toContain("--prometheus-url: expected the http(s) base URL of a Prometheus server, like http://prometheus:9090, got prometheus:9090x")
      expect(both.code).toBe(2)
      expect(both.stderr).toContain("--prometheus-url: expected either --utilization-file or --prometheus-url, not both")
      for (const run of [rejected, badUrl, both]) expect(run.stderr).not.toMatch(STACK_FRAME)
      expect(server.requests).toHaveLength(1)
    } finally {
      await server.close()
    }
  })

  it("report schedule and slack serve check the URL before they start", async () => {
    const [schedule, serve] = await Promise.all([
      report("schedule", "--to", `file:${join(dir, "scheduled")}`, "--prometheus-url", "ftp://prometheus"),
      runFrugal(["slack", "serve", "--port", "0", "--host", "127.0.0.1", "--prometheus-url", "ftp://prometheus"], {
        env: { ...env, SLACK_BOT_TOKEN: "xoxb-test", SLACK_SIGNING_SECRET: "secret" }
      })
    ])
    for (const run of [schedule, serve]) {
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("--prometheus-url: expected the http(s) base URL of a Prometheus server")
      expect(run.stderr).not.toMatch(STACK_FRAME)
    }
  })
})
