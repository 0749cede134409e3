/**
 * The dashboard's charts, drawn by Apache ECharts on the server as SVG (`ssr: true`), as `frugal report` draws
 * its own (packages/waste/src/report/Charts.ts): the page needs no chart script and nothing from a network. Each chart
 * is drawn twice, in ECharts' light and dark themes, and the stylesheet shows the one the reader's
 * `prefers-color-scheme` asks for. ECharts escapes every label it writes into the SVG. A chart is drawn again only
 * when its data changed (the last few are kept), since live updates ask for the same figures over and over.
 */
import type { AttemptRecord } from "@frugal/runner"
import type { TeamUsage, ZoneSummary } from "@frugal/scheduler"

type ECharts = typeof import("echarts")
type Option = Parameters<ReturnType<ECharts["init"]>["setOption"]>[0]

export interface ThemedSvg {
  readonly light: string
  readonly dark: string
  /** What the chart shows, in words (its accessible name). */
  readonly description: string
}

export interface Charts {
  readonly budgets: (teams: ReadonlyArray<TeamUsage>) => ThemedSvg
  readonly zones: (zones: ReadonlyArray<ZoneSummary>) => ThemedSvg
  readonly attempts: (attempts: ReadonlyArray<AttemptRecord>) => ThemedSvg
}

const WIDTH = 720
const MAX_ZONES = 12
const cents = (usd: number) => Math.round(usd * 100) / 100

export const OUTCOME_COLORS: Readonly<Record<AttemptRecord["outcome"], string>> = {
  completed: "#3ba272",
  running: "#5470c6",
  interrupted: "#fc8452",
  failed: "#ee6666",
  "provision-failed": "#9a60b4",
  cancelled: "#91a0b0"
}

const makeCharts = (echarts: ECharts): Charts => {
  const cache = new Map<string, ThemedSvg>()
  const draw = (key: string, height: number, description: string, option: Option): ThemedSvg => {
    const known = cache.get(key)
    if (known !== undefined) return known
    const render = (theme: "light" | "dark") => {
      const chart = echarts.init(null, theme === "dark" ? "dark" : null, { renderer: "svg", ssr: true, width: WIDTH, height })
      try {
        chart.setOption({ animation: false, backgroundColor: "transparent", ...option })
        return chart.renderToSVGString()
      } finally {
        chart.dispose()
      }
    }
    const drawn = { light: render("light"), dark: render("dark"), description }
    if (cache.size >= 32) cache.delete(cache.keys().next().value ?? "")
    cache.set(key, drawn)
    return drawn
  }

  return {
    budgets: (teams) => {
      // To a thousandth of the largest budget: what a bar can show, and a running job's cost redraws it rarely.
      const step = Math.max(0.01, Math.max(...teams.map((team) => team.monthlyBudgetUsd)) / 1000)
      const round = (usd: number) => cents(Math.round(usd / step) * step)
      const rows = teams.map((team) => ({
        team: team.team,
        spent: round(team.spentUsd),
        reserved: round(team.reservedUsd),
        left: round(Math.max(0, team.remainingUsd))
      }))
      const description = `Spend against budget this month: ${rows.map((row) => `${row.team} spent $${row.spent}, reserved $${row.reserved}, left $${row.left}`).join("; ")}`
      return draw(`budgets:${JSON.stringify(rows)}`, 80 + 36 * rows.length, description, {
        tooltip: { trigger: "axis" },
        legend: { top: 0, itemGap: 28 },
        grid: { left: 110, right: 50, top: 34, bottom: 30 },
        xAxis: { type: "value", name: "USD", nameLocation: "end", nameGap: 8 },
        yAxis: { type: "category", inverse: true, data: rows.map((row) => row.team) },
        series: [
          { name: "spent", type: "bar", stack: "budget", color: "#5470c6", data: rows.map((row) => row.spent) },
          { name: "reserved", type: "bar", stack: "budget", color: "#fac858", data: rows.map((row) => row.reserved) },
          { name: "left", type: "bar", stack: "budget", color: "#91cc75", data: rows.map((row) => row.left) }
        ]
      })
    },
    zones: (zones) => {
      const shown = zones.slice(0, MAX_ZONES)
      const description = `Interruptions, provisioning failures and failovers by zone: ${shown
        .map((zone) => `${zone.zone} ${zone.interruptions} interrupted, ${zone.provisionFailures} not provisioned, ${zone.failovers} failed over`)
        .join("; ")}`
      const data = shown.map((zone) => [zone.zone, zone.interruptions, zone.provisionFailures, zone.failovers] as const)
      return draw(`zones:${JSON.stringify(data)}`, 80 + 40 * shown.length, description, {
        tooltip: { trigger: "axis" },
        legend: { top: 0, itemGap: 28 },
        grid: { left: 110, right: 70, top: 34, bottom: 30 },
        xAxis: { type: "value", name: "attempts", nameLocation: "end", nameGap: 8, minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: shown.map((zone) => zone.zone) },
        series: [
          { name: "interrupted", type: "bar", color: OUTCOME_COLORS.interrupted, data: shown.map((zone) => zone.interruptions) },
          { name: "not provisioned", type: "bar", color: OUTCOME_COLORS["provision-failed"], data: shown.map((zone) => zone.provisionFailures) },
          { name: "failed over", type: "bar", color: "#73c0de", data: shown.map((zone) => zone.failovers) }
        ]
      })
    },
    attempts: (attempts) => {
      const origin = Math.min(...attempts.map((attempt) => attempt.startedAtMillis))
      const rows = attempts.map((attempt) => {
        const end = attempt.endedAtMillis ?? attempt.lastSeenAtMillis
        const zone = attempt.placement.availabilityZone ?? attempt.placement.region
        return {
          label: `#${attempt.sequence} ${attempt.placement.purchaseOption} ${zone}`,
          offset: Math.round(((attempt.startedAtMillis - origin) / 60_000) * 100) / 100,
          minutes: Math.round((Math.max(0, end - attempt.startedAtMillis) / 60_000) * 100) / 100,
          outcome: attempt.outcome
        }
      })
      const longest = Math.max(...rows.map((row) => row.offset + row.minutes))
      const description = `Attempts over time: ${rows.map((row) => `${row.label} ${row.outcome} after ${row.minutes} min`).join("; ")}`
      return draw(`attempts:${JSON.stringify(rows)}`, 70 + 34 * rows.length, description, {
        grid: { left: 170, right: 30, top: 10, bottom: 40 },
        xAxis: { type: "value", name: "minutes since the first attempt", nameLocation: "middle", nameGap: 25 },
        yAxis: { type: "category", inverse: true, data: rows.map((row) => row.label) },
        series: [
          // The bar of each attempt starts where the attempt did: an invisible bar carries it there.
          { name: "start", type: "bar", stack: "time", silent: true, itemStyle: { color: "transparent" }, data: rows.map((row) => row.offset) },
          {
            name: "attempt",
            type: "bar",
            stack: "time",
            label: { show: true, position: "insideLeft", formatter: (params: { readonly dataIndex: number }) => rows[params.dataIndex]?.outcome ?? "" },
            // A bar too short to hold its label has it beside, in the bar's colour.
            data: rows.map((row) => ({
              value: row.minutes,
              itemStyle: { color: OUTCOME_COLORS[row.outcome] },
              ...(row.minutes < longest / 8 ? { label: { position: "right", color: OUTCOME_COLORS[row.outcome], textBorderWidth: 0 } } : {})
            }))
          }
        ]
      })
    }
  }
}

let loaded: Promise<Charts> | undefined

/** The charts, once ECharts is loaded (on the first page that draws one, not when the server starts). */
export const loadCharts = (): Promise<Charts> => (loaded ??= import("echarts").then(makeCharts))
