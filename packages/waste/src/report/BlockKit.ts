/**
 * The report as a Slack message (Block Kit), used by `--format slack`, the scheduled digest and the bot.
 * Slack's limits (https://api.slack.com/reference/block-kit/blocks): at most 50 blocks per message,
 * 3,000 characters in a section's text, 150 in a header, 75 in a button label, 10 context elements.
 */
import { formatUsd } from "@frugal/core"
import type { WasteReport } from "../Finding.ts"
import { creditsLine, PARTIAL_HEADLINE, partialLines, summaryLine } from "./Markdown.ts"
import { kindLabel } from "../findings/Rules.ts"

export const MAX_BLOCKS = 50
export const MAX_TEXT = 3000

export interface TextObject {
  readonly type: "mrkdwn" | "plain_text"
  readonly text: string
}

export type Block =
  | { readonly type: "header"; readonly text: TextObject }
  | { readonly type: "section"; readonly text: TextObject; readonly block_id?: string }
  | { readonly type: "context"; readonly elements: ReadonlyArray<TextObject> }
  | { readonly type: "divider" }
  | {
    readonly type: "actions"
    readonly block_id?: string
    readonly elements: ReadonlyArray<{
      readonly type: "button"
      readonly action_id: string
      readonly text: TextObject
      readonly value: string
    }>
  }

export interface SlackMessage {
  /** Notification fallback text. */
  readonly text: string
  readonly blocks: ReadonlyArray<Block>
}

export const clip = (text: string, limit: number): string => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`)

/** Slack mrkdwn escapes: &, <, > (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const escapeMrkdwn = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const mrkdwn = (text: string, limit = MAX_TEXT): TextObject => ({ type: "mrkdwn", text: clip(text, limit) })
export const plain = (text: string, limit = MAX_TEXT): TextObject => ({ type: "plain_text", text: clip(text, limit) })

/** Action ids of the buttons the bot answers. */
export const EXPLAIN_ACTION = "frugal_explain"
export const ALTERNATIVES_ACTION = "frugal_alternatives"

export const renderBlockKit = (report: WasteReport, options: { readonly maxFindings?: number } = {}): SlackMessage => {
  // 4 blocks a finding + 5 fixed blocks keeps a report of 10 findings under 50 blocks.
  const maxFindings = Math.min(options.maxFindings ?? 10, Math.floor((MAX_BLOCKS - 5) / 4))
  const credits = creditsLine(report)
  const blocks: Array<Block> = [
    { type: "header", text: plain(`GPU waste ${report.period.start} to ${report.period.end}`, 150) },
    { type: "section", text: mrkdwn(escapeMrkdwn(credits === null ? summaryLine(report) : `${summaryLine(report)}\n${credits}`)) },
    ...(report.unavailable.length === 0 ? [] : [{
      type: "section" as const,
      text: mrkdwn(`:warning: *${escapeMrkdwn(PARTIAL_HEADLINE)}*\n${partialLines(report).map((line) => `• ${escapeMrkdwn(line)}`).join("\n")}`)
    }]),
    { type: "divider" }
  ]
  const shown = report.findings.slice(0, maxFindings)
  shown.forEach((finding, index) => {
    blocks.push({
      type: "section",
      block_id: `finding-${index}`,
      text: mrkdwn(
        `*${index + 1}. ${escapeMrkdwn(finding.title)}*\n${formatUsd(finding.costUsd)} this period, about ` +
          `${formatUsd(finding.monthlySavingsUsd)} a month\n*Action:* ${escapeMrkdwn(finding.action)}`
      )
    })
    if (finding.evidence.length > 0) blocks.push({
      type: "context",
      elements: finding.evidence.slice(0, 3).map((item) =>
        mrkdwn(`${escapeMrkdwn(item.subject)}: ${formatUsd(item.costUsd)}, ${escapeMrkdwn(item.detail)}`)
      ).concat(finding.evidence.length > 3 ? [mrkdwn(`and ${finding.evidence.length - 3} more`)] : [])
    })
    blocks.push({
      type: "actions",
      block_id: `finding-actions-${index}`,
      elements: [
        { type: "button", action_id: EXPLAIN_ACTION, text: plain("Explain", 75), value: clip(finding.kind, 2000) },
        { type: "button", action_id: ALTERNATIVES_ACTION, text: plain("Show alternatives", 75), value: clip(finding.kind, 2000) }
      ]
    })
    blocks.push({ type: "divider" })
  })
  const hidden = report.findings.length - shown.length
  const footer = (hidden > 0 ? `${hidden} smaller finding(s) not shown; \`frugal report\` lists all. ` : "") +
    report.notes.map(escapeMrkdwn).join(" ")
  // Slack rejects empty text objects and empty context blocks.
  if (footer.trim() !== "") blocks.push({ type: "context", elements: [mrkdwn(footer)] })
  const top = report.findings[0]
  return {
    // The notification text is read as mrkdwn too.
    text: clip(
      escapeMrkdwn(
        `GPU waste ${report.period.start} to ${report.period.end}: ${summaryLine(report)}` +
          (report.unavailable.length > 0 ? " (partial report)" : "") +
          (top === undefined ? "" : ` Largest: ${kindLabel(top.kind)} ${formatUsd(top.costUsd)}.`)
      ),
      MAX_TEXT
    ),
    blocks
  }
}
