/** `--since 30d`: the whole UTC days before today (today excluded: Cost Explorer's day is not over). */
import { InvalidInput } from "@frugal/core"
import { Clock, Effect } from "effect"
import type { Period } from "./CostData.ts"

const DAY_MS = 86_400_000

/** `2026-02-28` yes; `2026-02-30`, `2026-13-45` and `26-2-1` no (JavaScript's Date would roll them over). */
export const isCalendarDate = (text: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) &&
  new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text

export const parseSince = (since: string, nowMillis: number): Effect.Effect<Period, InvalidInput> => {
  const today = Math.floor(nowMillis / DAY_MS) * DAY_MS
  const end = new Date(today).toISOString().slice(0, 10)
  const relative = /^(\d+)([dw])$/.exec(since.trim())
  if (relative !== null) {
    const days = Number(relative[1]) * (relative[2] === "w" ? 7 : 1)
    if (days >= 1 && days <= 366) return Effect.succeed({ start: new Date(today - days * DAY_MS).toISOString().slice(0, 10), end })
  }
  if (isCalendarDate(since.trim()) && Date.parse(`${since.trim()}T00:00:00Z`) < today) {
    return Effect.succeed({ start: since.trim(), end })
  }
  return Effect.fail(
    new InvalidInput({
      source: "--since",
      issues: [{ path: "--since", expected: "a number of days or weeks (30d, 4w; at most 366 days) or a past date (2026-11-01)", actual: since }]
    })
  )
}

export const periodSince = (since: string): Effect.Effect<Period, InvalidInput> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => parseSince(since, now))

/** The week (Monday to Monday) that ended on or before `nowMillis`: what a Monday digest reports. */
export const previousWeek = (nowMillis: number): Period => {
  const today = Math.floor(nowMillis / DAY_MS) * DAY_MS
  // 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays.
  const sinceMonday = (Math.floor(today / DAY_MS) + 3) % 7
  const end = today - sinceMonday * DAY_MS
  return { start: new Date(end - 7 * DAY_MS).toISOString().slice(0, 10), end: new Date(end).toISOString().slice(0, 10) }
}
