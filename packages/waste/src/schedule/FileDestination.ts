/** `--to file:DIR`: each period's report as Markdown and HTML, written atomically; rewriting a period is harmless. */
import { Effect } from "effect"
import { join } from "node:path"
import { writeFileAtomic } from "@frugal/core/io"
import { renderHtml } from "../report/Html.ts"
import { renderMarkdown } from "../report/Markdown.ts"
import type { Destination } from "./ReportSchedule.ts"

export const fileDestination = (directory: string): Destination => ({
  name: `file:${directory}`,
  deliver: (report) => {
    const base = join(directory, `frugal-report-${report.period.start}-to-${report.period.end}`)
    return Effect.all([
      writeFileAtomic(`${base}.md`, renderMarkdown(report)),
      writeFileAtomic(`${base}.html`, renderHtml(report))
    ], { discard: true })
  }
})
