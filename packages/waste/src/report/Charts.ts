/**
 * The report's charts, drawn by Apache ECharts on the server as SVG (`ssr: true`,
 * https://echarts.apache.org/handbook/en/how-to/cross-platform/server/) so the HTML page
 * needs no script and no network to show them.
 */
import * as echarts from "echarts"
import type { WasteReport } from "../Finding.ts"
import { kindLabel } from "../findings/Rules.ts"

const WIDTH = 880
const HEIGHT = 320
const PURCHASE_COLORS: Readonly<Record<string, string>> = {
  "on-demand": "#d9534f",
  spot: "#5cb85c",
  reserved: "#337ab7",
  "savings-plan": "#5bc0de"
}

const render = (option: echarts.EChartsCoreOption, height = HEIGHT): string => {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: WIDTH, height })
  try {
    chart.setOption({ animation: false, ...option })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}

const dollars = (value: number): number => Math.round(value * 100) / 100

export const spendByPurchaseOptionChart = (report: WasteReport): string => {
  const dates = [...new Set(report.dailySpend.map((row) => row.date))].sort()
  const options = [...new Set(report.dailySpend.map((row) => row.purchaseOption))].sort()
  return render({
    title: { text: "Daily spend by purchase option (USD)", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 60, right: 20, top: 40, bottom: 60 },
    xAxis: { type: "category", data: dates },
    yAxis: { type: "value", name: "USD" },
    series: options.map((option) => ({
      name: option,
      type: "bar",
      stack: "spend",
      itemStyle: { color: PURCHASE_COLORS[option] ?? "#999" },
      data: dates.map((date) =>
        dollars(report.dailySpend.filter((row) => row.date === date && row.purchaseOption === option)
          .reduce((total, row) => total + row.costUsd, 0))
      )
    }))
  })
}

export const wasteByKindChart = (report: WasteReport): string =>
  render({
    title: { text: "Avoidable spend by finding (USD, this period)", left: "center", textStyle: { fontSize: 14 } },
    grid: { left: 170, right: 60, top: 40, bottom: 30 },
    xAxis: { type: "value", name: "USD" },
    yAxis: { type: "category", inverse: true, data: report.findings.map((finding) => kindLabel(finding.kind)) },
    series: [{
      type: "bar",
      itemStyle: { color: "#f0ad4e" },
      label: { show: true, position: "right" },
      data: report.findings.map((finding) => dollars(finding.costUsd))
    }]
  })

export const topInstancesChart = (report: WasteReport, limit = 8): string => {
  const top = report.instanceTypeSpend.slice(0, limit)
  const wasteByType = new Map<string, number>()
  for (const finding of report.findings) {
    for (const item of finding.evidence) {
      if (item.instanceType !== null) wasteByType.set(item.instanceType, (wasteByType.get(item.instanceType) ?? 0) + item.costUsd)
    }
  }
  return render({
    title: { text: "Top instance types: spend and avoidable part (USD)", left: "center", textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    grid: { left: 120, right: 60, top: 40, bottom: 50 },
    xAxis: { type: "value", name: "USD" },
    yAxis: { type: "category", inverse: true, data: top.map((row) => row.instanceType) },
    series: [
      { name: "spend", type: "bar", itemStyle: { color: "#337ab7" }, data: top.map((row) => dollars(row.costUsd)) },
      {
        name: "avoidable",
        type: "bar",
        itemStyle: { color: "#f0ad4e" },
        data: top.map((row) => dollars(Math.min(row.costUsd, wasteByType.get(row.instanceType) ?? 0)))
      }
    ]
  })
}
