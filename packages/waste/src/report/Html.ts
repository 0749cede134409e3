/** The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script, no network. */
import { formatUsd } from "@frugal/core"
import type { WasteReport } from "../Finding.ts"
import { spendByPurchaseOptionChart, topInstancesChart, wasteByKindChart } from "./Charts.ts"
import { creditsLine, PARTIAL_HEADLINE, partialLines, summaryLine } from "./Markdown.ts"
import { kindLabel } from "../findings/Rules.ts"

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 960px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.summary { font-size: 1.05rem; background: #f6f8fa; padding: .75rem 1rem; border-radius: 6px; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.action { background: #fff8e1; padding: .5rem .75rem; border-left: 4px solid #f0ad4e; }
.notes { color: #666; font-size: .8rem; }
.partial { background: #fdecea; padding: .5rem .75rem; border-left: 4px solid #d9534f; }
`

export const renderHtml = (report: WasteReport): string => {
  const title = `GPU spend and waste, ${report.period.start} to ${report.period.end}`
  const credits = creditsLine(report)
  const summaryRows = report.findings.map((finding, index) =>
    `<tr><td>${index + 1}</td><td>${escape(kindLabel(finding.kind))}</td><td class="num">${formatUsd(finding.costUsd)}</td>` +
    `<td class="num">${formatUsd(finding.monthlySavingsUsd)}</td><td>${escape(finding.action)}</td></tr>`
  ).join("\n")
  const sections = report.findings.map((finding, index) => {
    const rows = finding.evidence.map((item) =>
      `<tr><td>${escape(item.subject)}</td><td>${escape(item.instanceType ?? "")}</td><td>${escape(item.from ?? "")}</td>` +
      `<td>${escape(item.to ?? "")}</td><td class="num">${item.hours.toFixed(1)}</td><td class="num">${formatUsd(item.costUsd)}</td>` +
      `<td>${escape(item.detail)}</td></tr>`
    ).join("\n")
    return `<section class="finding" data-kind="${finding.kind}">
<h2>${index + 1}. ${escape(finding.title)}: ${formatUsd(finding.costUsd)}</h2>
<p>About ${formatUsd(finding.monthlySavingsUsd)} a month.</p>
<p class="action"><strong>Action:</strong> ${escape(finding.action)}</p>
<table><thead><tr><th>Evidence</th><th>Instance type</th><th>From</th><th>To</th><th class="num">Hours</th><th class="num">$</th><th>Detail</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>`
  }).join("\n")
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p class="summary">${escape(summaryLine(report))}</p>
${credits === null ? "" : `<p class="credits">${escape(credits)}</p>\n`}${report.unavailable.length === 0 ? "" : `<div class="partial"><p><strong>${escape(PARTIAL_HEADLINE)}</strong></p><ul>${partialLines(report).map((line) => `<li>${escape(line)}</li>`).join("")}</ul></div>\n`}
<figure id="chart-spend">${spendByPurchaseOptionChart(report)}</figure>
<figure id="chart-waste">${wasteByKindChart(report)}</figure>
<figure id="chart-instances">${topInstancesChart(report)}</figure>
<h2>Findings</h2>
<table><thead><tr><th>#</th><th>Finding</th><th class="num">This period</th><th class="num">Per month</th><th>Action</th></tr></thead>
<tbody>
${summaryRows}
</tbody></table>
${sections}
<div class="notes">${report.notes.map((note) => `<p>${escape(note)}</p>`).join("")}</div>
</body>
</html>
`
}
