/**
 * Scheduled reports: at each cron fire, the period since the previous fire is due at every destination;
 * due periods are recorded before delivery (`ReportDeliveries`), so after a restart every period not yet
 * delivered, and every fire missed while the process was down, is delivered, and none twice.
 *
 * A period is whole UTC days: from the date of the previous fire to the date of this one
 * (`0 9 * * MON` → Monday to Monday). A failed delivery is retried with backoff; if it still fails it
 * stays `failed`, is logged, and is tried again at the next fire and at the next start: never dropped.
 * Delivery is at least once: a crash between sending and recording repeats that one send on restart.
 * Each delivery records the period its report actually covered (its data's: offline files cover their own).
 */
import { InvalidInput, type LocalFailure, type RemoteServiceFailure } from "@frugal/core"
import { Clock, Cron, Effect, Result, Schedule } from "effect"
import type { Period } from "../CostData.ts"
import type { WasteReport } from "../Finding.ts"
import { summaryLine } from "../report/Markdown.ts"
import { ReportDeliveries } from "./ReportDeliveries.ts"

export interface Destination {
  /** `slack:#finops`, `file:/var/reports`: also the key deliveries are recorded under. */
  readonly name: string
  readonly deliver: (report: WasteReport) => Effect.Effect<void, RemoteServiceFailure | LocalFailure>
}

export interface ScheduleOptions {
  readonly cron: Cron.Cron
  readonly destinations: ReadonlyArray<Destination>
  readonly report: (period: Period) => Effect.Effect<WasteReport, InvalidInput | RemoteServiceFailure>
  /** How one delivery is retried within a fire (default: 5 tries, 1 min doubling). */
  readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  readonly log: (line: string) => Effect.Effect<void>
}

export const parseCron = (expression: string): Effect.Effect<Cron.Cron, InvalidInput> => {
  const parsed = Cron.parse(expression, "UTC")
  return Result.isSuccess(parsed)
    ? Effect.succeed(parsed.success)
    : Effect.fail(
      new InvalidInput({
        source: "--cron",
        issues: [{ path: "--cron", expected: `a cron expression such as "0 9 * * MON" (${parsed.failure.message})`, actual: expression }]
      })
    )
}

const dateOf = (time: Date): string => time.toISOString().slice(0, 10)

/**
 * The period a fire at `time` reports: from the previous fire's date to this fire's date. Cost data is daily,
 * so a cron firing more than once a day reports the previous day, once.
 */
export const periodOfFire = (cron: Cron.Cron, time: Date): Period => {
  const end = dateOf(time)
  const start = dateOf(Cron.prev(cron, time))
  return { start: start < end ? start : dateOf(new Date(Date.parse(`${end}T00:00:00Z`) - 86_400_000)), end }
}

const defaultRetry = Schedule.exponential("1 minute", 2).pipe(Schedule.upTo({ times: 5 }))

/** Fires after the newest period a destination knows and up to `now`: what a stopped process missed. */
const missedFires = (cron: Cron.Cron, latestEnd: string, now: Date): ReadonlyArray<Date> => {
  const fires: Array<Date> = []
  for (const fire of Cron.sequence(cron, new Date(`${latestEnd}T00:00:00Z`))) {
    if (fire.getTime() > now.getTime()) break
    if (dateOf(fire) > latestEnd) fires.push(fire)
  }
  return fires
}

const recordDue = Effect.fnUntraced(function*(options: ScheduleOptions, fire: Date | null) {
  const deliveries = yield* ReportDeliveries
  const now = new Date(yield* Clock.currentTimeMillis)
  for (const destination of options.destinations) {
    const latest = yield* deliveries.latestPeriodEnd(destination.name)
    if (latest !== null) {
      for (const missed of missedFires(options.cron, latest, now)) {
        yield* deliveries.due(destination.name, periodOfFire(options.cron, missed))
      }
    }
    if (fire !== null) yield* deliveries.due(destination.name, periodOfFire(options.cron, fire))
  }
})

/** Delivers every due period not yet delivered, building each period's report once. */
export const deliverDue = Effect.fnUntraced(function*(options: ScheduleOptions) {
  const deliveries = yield* ReportDeliveries
  const byName = new Map(options.destinations.map((destination) => [destination.name, destination]))
  const reports = new Map<string, WasteReport>()
  for (const due of yield* deliveries.undelivered) {
    const destination = byName.get(due.destination)
    // A destination no longer configured keeps its rows for when it comes back.
    if (destination === undefined) continue
    const label = `${due.period.start}..${due.period.end} to ${due.destination}`
    const attempt = Effect.gen(function*() {
      const key = `${due.period.start}|${due.period.end}`
      const report = reports.get(key) ?? (yield* options.report(due.period))
      reports.set(key, report)
      yield* destination.deliver(report)
      return report
    })
    const outcome = yield* attempt.pipe(
      Effect.tapError((error) => options.log(`report ${label}: ${error.message}; retrying`)),
      Effect.retry({ schedule: options.retry ?? defaultRetry }),
      Effect.result
    )
    if (Result.isSuccess(outcome)) {
      const reported = outcome.success.period
      yield* deliveries.delivered(due.destination, due.period, yield* Clock.currentTimeMillis, reported)
      // Offline files cover the period they were pulled for, whatever period is due: say which one went out.
      const covers = reported.start === due.period.start && reported.end === due.period.end
        ? ""
        : ` (its data covers ${reported.start}..${reported.end})`
      const partial = outcome.success.unavailable.length === 0
        ? ""
        : ` (partial: ${outcome.success.unavailable.map((part) => `${part.service} ${part.operation}`).join(", ")} unavailable)`
      yield* options.log(`report ${label} delivered${covers}: ${summaryLine(outcome.success)}${partial}`)
    } else {
      yield* deliveries.failed(due.destination, due.period, outcome.failure.message)
      yield* options.log(`report ${label} FAILED after retries: ${outcome.failure.message}; will try again at the next fire`)
    }
  }
})

/** Runs until interrupted: catch up on start, then wake at each fire. */
export const runReportSchedule = (options: ScheduleOptions): Effect.Effect<never, LocalFailure, ReportDeliveries> =>
  Effect.gen(function*() {
    yield* recordDue(options, null)
    yield* deliverDue(options)
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const fire = Cron.next(options.cron, new Date(now))
      yield* options.log(`next report at ${fire.toISOString()} for ${periodOfFire(options.cron, fire).start}..${dateOf(fire)}`)
      yield* Effect.sleep(Math.max(0, fire.getTime() - now))
      yield* recordDue(options, fire)
      yield* deliverDue(options)
    }
  })
