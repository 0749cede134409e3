/** Small formatters shared by the runner and queue commands (`run`, `status`, `logs`, `drill`, `queue`); money is `formatUsd` of `@frugal/core`. */

export const duration = (millis: number): string => {
  const seconds = Math.max(0, Math.round(millis / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

/** `2026-11-23T07:00:00Z`: an ISO time without milliseconds. */
export const isoTime = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")
