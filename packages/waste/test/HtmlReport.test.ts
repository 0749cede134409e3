/**
 * The HTML report of the example week, opened in headless Chromium (Debian `chromium`, or FRUGAL_CHROMIUM):
 * the three charts render, nothing is fetched from the network, no console errors; a full-page screenshot
 * goes to test-output/waste/report-screenshot.png (docs/report-screenshot.png is a copy of it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { renderReport } from "../src/Report.ts"
import { exampleReport, repositoryRoot } from "./fixtures/ExampleReport.ts"

const outputDir = join(repositoryRoot, "test-output", "waste")
const executablePath = process.env["FRUGAL_CHROMIUM"] ?? "/usr/bin/chromium"

describe("HTML report", () => {
  it.live("renders its charts in headless Chromium with no network and no console errors", () =>
    Effect.gen(function*() {
      assert.isTrue(existsSync(executablePath), `Chromium not found at ${executablePath}: apt-get install -y chromium`)
      const html = renderReport(yield* exampleReport, "html")
      mkdirSync(outputDir, { recursive: true })
      const file = join(outputDir, "report.html")
      writeFileSync(file, html)

      const browser = yield* Effect.acquireRelease(
        Effect.promise(() =>
          chromium.launch({
            executablePath,
            args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
          })
        ),
        (browser) => Effect.promise(() => browser.close())
      )
      const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1000, height: 1300 } }))
      const problems: Array<string> = []
      const requests: Array<string> = []
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`)
      })
      page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`))
      page.on("request", (request) => requests.push(request.url()))
      yield* Effect.promise(() => page.goto(pathToFileURL(file).href, { waitUntil: "load" }))

      const charts = yield* Effect.promise(() =>
        page.$$eval("figure", (figures) =>
          figures.map((figure) => {
            const svg = figure.querySelector("svg")
            const box = svg?.getBoundingClientRect()
            return {
              id: figure.id,
              width: box?.width ?? 0,
              height: box?.height ?? 0,
              shapes: svg?.querySelectorAll("path").length ?? 0,
              text: svg?.textContent ?? ""
            }
          })
        )
      )
      assert.deepStrictEqual(charts.map((chart) => chart.id), ["chart-spend", "chart-waste", "chart-instances"])
      for (const chart of charts) {
        assert.isAbove(chart.width, 400, chart.id)
        assert.isAbove(chart.height, 200, chart.id)
        assert.isAbove(chart.shapes, 10, `${chart.id} draws bars and axes`)
      }
      assert.include(charts[0]?.text ?? "", "on-demand")
      assert.include(charts[1]?.text ?? "", "Could be spot")
      assert.include(charts[2]?.text ?? "", "p4d.24xlarge")
      assert.deepStrictEqual(requests, [pathToFileURL(file).href], "the page loads nothing but itself")
      assert.deepStrictEqual(problems, [])
      const findings = yield* Effect.promise(() => page.$$eval("section.finding", (sections) => sections.length))
      assert.strictEqual(findings, 6)

      yield* Effect.promise(() => page.screenshot({ path: join(outputDir, "report-screenshot.png"), fullPage: false }))
      assert.isTrue(existsSync(join(outputDir, "report-screenshot.png")))
    }))
})
