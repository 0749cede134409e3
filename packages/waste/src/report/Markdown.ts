/** The report as Markdown: a summary table, then each finding with its action and evidence. */
import { formatUnavailablePart, formatUsd } from "@frugal/core"
import type { WasteReport } from "../Finding.ts"
import { kindLabel } from "../findings/Rules.ts"

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

export const summaryLine = (report: WasteReport): string => {
  const share = report.totalCostUsd > 0 ? (100 * report.wasteUsd / report.totalCostUsd).toFixed(1) : "0.0"
  return `Spend ${formatUsd(report.totalCostUsd)}; avoidable ${formatUsd(report.wasteUsd)} (${share}% of spend), ` +
    `about ${formatUsd(report.monthlySavingsUsd)} a month.`
}

/** Credits and refunds, when there were any: money back, shown beside the spend and never taken off it. */
export const creditsLine = (report: WasteReport): string | null =>
  report.creditsUsd > 0
    ? `Credits and refunds: ${formatUsd(report.creditsUsd)} given back (not subtracted from spend; findings are measured against what usage cost).`
    : null

/** What a partial report is missing, one sentence per source or call that failed. */
export const partialLines = (report: WasteReport): ReadonlyArray<string> =>
  report.unavailable.map((part) => `Could not read ${formatUnavailablePart(part)}`)

export const PARTIAL_HEADLINE = "Partial report: the findings that need these sources are missing."

const hours = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(1))

export const renderMarkdown = (report: WasteReport): string => {
  const lines: Array<string> = [
    `# GPU spend and waste, ${report.period.start} to ${report.period.end}`,
    "",
    summaryLine(report),
    ""
  ]
  const credits = creditsLine(report)
  if (credits !== null) lines.push(credits, "")
  if (report.unavailable.length > 0) lines.push(`**${PARTIAL_HEADLINE}**`, "", ...partialLines(report).map((line) => `- ${line}`), "")
  if (report.findings.length === 0) {
    lines.push("No waste found above the thresholds.", "")
  } else {
    lines.push("| # | Finding | This period | Per month | Action |", "|---|---|---:|---:|---|")
    report.findings.forEach((finding, index) => {
      lines.push(
        `| ${index + 1} | ${cell(kindLabel(finding.kind))} | ${formatUsd(finding.costUsd)} | ${formatUsd(finding.monthlySavingsUsd)} | ` +
          `${cell(finding.action)} |`
      )
    })
    lines.push("")
  }
  report.findings.forEach((finding, index) => {
    lines.push(
      `## ${index + 1}. ${finding.title}`,
      "",
      `**${formatUsd(finding.costUsd)}** this period, about **${formatUsd(finding.monthlySavingsUsd)}** a month. ` +
        `**Action:** ${finding.action}`,
      "",
      "| Evidence | Instance type | From | To | Hours | $ | Detail |",
      "|---|---|---|---|---:|---:|---|"
    )
    for (const item of finding.evidence) {
      lines.push(
        `| ${cell(item.subject)} | ${item.instanceType ?? ""} | ${item.from ?? ""} | ${item.to ?? ""} | ${hours(item.hours)} | ` +
          `${formatUsd(item.costUsd)} | ${cell(item.detail)} |`
      )
    }
    lines.push("")
  })
  lines.push(...report.notes.map((note) => `_${note}_`), "")
  return lines.join("\n")
}
