import { assert, describe, it } from "@effect/vitest"
import { RemoteServiceFailure } from "@frugal/core"
import { Cron, Effect, Fiber, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { analyzeWaste } from "../src/Analyze.ts"
import { emptyCostData, type Period } from "../src/CostData.ts"
import type { WasteReport } from "../src/Finding.ts"
import { fileDestination } from "../src/schedule/FileDestination.ts"
import { ReportDeliveries } from "../src/schedule/ReportDeliveries.ts"
import { deliverDue, type Destination, periodOfFire, runReportSchedule } from "../src/schedule/ReportSchedule.ts"
import { testCatalog } from "./fixtures/TestCatalog.ts"

const mondays = Cron.parseUnsafe("0 9 * * MON", "UTC")
const at = (iso: string) => Date.parse(iso)

const fakeReport = (built: Array<string>) => (period: Period) =>
  Effect.sync((): WasteReport => {
    built.push(`${period.start}..${period.end}`)
    return analyzeWaste({ costs: emptyCostData(period), catalog: testCatalog })
  })

const recording = (name: string, sent: Array<string>, failWhile: () => boolean = () => false): Destination => ({
  name,
  deliver: (report) =>
    failWhile()
      ? Effect.fail(new RemoteServiceFailure({ service: "Slack", operation: "chat.postMessage", detail: "channel_not_found" }))
      : Effect.sync(() => void sent.push(`${report.period.start}..${report.period.end}`))
})

const ledgerFile = () => join(mkdtempSync(join(tmpdir(), "frugal-schedule-")), "ledger.sqlite")

describe("runReportSchedule", () => {
  it("reports the days between the previous fire and this one", () => {
    assert.deepStrictEqual(periodOfFire(mondays, new Date("2026-11-09T09:00:00Z")), { start: "2026-11-02", end: "2026-11-09" })
    // Hourly: every fire of a day reports the day before, so it is delivered once.
    const hourly = Cron.parseUnsafe("0 * * * *", "UTC")
    assert.deepStrictEqual(periodOfFire(hourly, new Date("2026-11-09T15:00:00Z")), { start: "2026-11-08", end: "2026-11-09" })
  })

  it.effect("delivers four Mondays exactly once each across a restart that missed a Monday", () =>
    Effect.gen(function*() {
      const path = ledgerFile()
      const built: Array<string> = []
      const slack: Array<string> = []
      const files: Array<string> = []
      const log: Array<string> = []
      let flakyCalls = 0
      const options = {
        cron: mondays,
        report: fakeReport(built),
        retry: Schedule.spaced("1 minute").pipe(Schedule.upTo({ times: 3 })),
        log: (line: string) => Effect.sync(() => void log.push(line)),
        destinations: [
          // The first two sends fail (Slack hiccup), the third works: retried, delivered once.
          recording("slack:#finops", slack, () => ++flakyCalls <= 2),
          recording("file:reports", files)
        ]
      }
      const start = () => Effect.forkChild(runReportSchedule(options).pipe(Effect.provide(ReportDeliveries.layerFile(path))))

      yield* TestClock.setTime(at("2026-11-01T00:00:00Z"))
      const first = yield* start()
      yield* TestClock.setTime(at("2026-11-02T10:00:00Z"))
      yield* TestClock.setTime(at("2026-11-09T10:00:00Z"))
      yield* Fiber.interrupt(first)
      // Down over the third Monday; the restarted process catches up, then keeps the schedule.
      yield* TestClock.setTime(at("2026-11-16T12:00:00Z"))
      const second = yield* start()
      yield* TestClock.setTime(at("2026-11-23T10:00:00Z"))
      yield* Fiber.interrupt(second)

      const weeks = ["2026-10-26..2026-11-02", "2026-11-02..2026-11-09", "2026-11-09..2026-11-16", "2026-11-16..2026-11-23"]
      assert.deepStrictEqual(slack, weeks)
      assert.deepStrictEqual(files, weeks)
      assert.deepStrictEqual(built, weeks, "one report built per period")
      assert.strictEqual(flakyCalls, 6, "three tries for the first week, then one a week")
      const rows = yield* ReportDeliveries.use((deliveries) => deliveries.all).pipe(Effect.provide(ReportDeliveries.layerFile(path)))
      assert.deepStrictEqual(rows.map((row) => [row.destination, row.period.start, row.status]), weeks.flatMap((week) => [
        ["file:reports", week.slice(0, 10), "delivered"],
        ["slack:#finops", week.slice(0, 10), "delivered"]
      ]))
      assert.isTrue(log.some((line) => line.includes("channel_not_found; retrying")))
    }))

  it.effect("keeps a delivery that failed every retry and delivers it at the next fire", () =>
    Effect.gen(function*() {
      const path = ledgerFile()
      const sent: Array<string> = []
      const log: Array<string> = []
      let down = true
      const options = {
        cron: mondays,
        report: fakeReport([]),
        retry: Schedule.spaced("1 minute").pipe(Schedule.upTo({ times: 2 })),
        log: (line: string) => Effect.sync(() => void log.push(line)),
        destinations: [recording("slack:#finops", sent, () => down)]
      }
      yield* TestClock.setTime(at("2026-11-01T00:00:00Z"))
      const fiber = yield* Effect.forkChild(runReportSchedule(options).pipe(Effect.provide(ReportDeliveries.layerFile(path))))
      yield* TestClock.setTime(at("2026-11-02T10:00:00Z"))
      assert.deepStrictEqual(sent, [])
      assert.isTrue(log.some((line) => /2026-10-26\.\.2026-11-02 to slack:#finops FAILED after retries: Slack chat\.postMessage failed: channel_not_found/.test(line)))
      const failed = yield* ReportDeliveries.use((deliveries) => deliveries.undelivered).pipe(Effect.provide(ReportDeliveries.layerFile(path)))
      assert.deepStrictEqual(failed.map((row) => [row.status, row.attempts]), [["failed", 1]])
      down = false
      yield* TestClock.setTime(at("2026-11-09T10:00:00Z"))
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(sent, ["2026-10-26..2026-11-02", "2026-11-02..2026-11-09"])
    }))

  it.effect("records and logs the period the delivered report covered when its data is not the period due", () =>
    Effect.gen(function*() {
      const path = ledgerFile()
      const log: Array<string> = []
      const sent: Array<string> = []
      // Offline files hold the week of 2026-11-02 whatever period is due.
      const filesWeek = { start: "2026-11-02", end: "2026-11-09" }
      const options = {
        cron: mondays,
        report: () => Effect.sync(() => analyzeWaste({ costs: emptyCostData(filesWeek), catalog: testCatalog })),
        log: (line: string) => Effect.sync(() => void log.push(line)),
        destinations: [recording("file:reports", sent)]
      }
      const rows = yield* Effect.gen(function*() {
        const deliveries = yield* ReportDeliveries
        yield* deliveries.due("file:reports", { start: "2026-11-16", end: "2026-11-23" })
        yield* deliverDue(options)
        return yield* deliveries.all
      }).pipe(Effect.provide(ReportDeliveries.layerFile(path)))
      assert.deepStrictEqual(sent, ["2026-11-02..2026-11-09"])
      assert.deepStrictEqual(rows.map((row) => [row.period, row.status, row.reported]), [
        [{ start: "2026-11-16", end: "2026-11-23" }, "delivered", filesWeek]
      ])
      assert.isTrue(log.some((line) => line.startsWith("report 2026-11-16..2026-11-23 to file:reports delivered (its data covers 2026-11-02..2026-11-09)")))
    }))

  it.live("writes each period to a directory as Markdown and HTML", () =>
    Effect.gen(function*() {
      const directory = mkdtempSync(join(tmpdir(), "frugal-reports-"))
      const path = ledgerFile()
      yield* Effect.gen(function*() {
        const deliveries = yield* ReportDeliveries
        yield* deliveries.due(`file:${directory}`, { start: "2026-11-02", end: "2026-11-09" })
        yield* deliverDue({ cron: mondays, report: fakeReport([]), log: () => Effect.void, destinations: [fileDestination(directory)] })
      }).pipe(Effect.provide(ReportDeliveries.layerFile(path)))
      assert.deepStrictEqual(readdirSync(directory).sort(), [
        "frugal-report-2026-11-02-to-2026-11-09.html",
        "frugal-report-2026-11-02-to-2026-11-09.md"
      ])
      assert.isTrue(existsSync(path))
    }))
})
