/** Where the GPU money went (`frugal report`): from the files `aws ce` and `aws cloudwatch` printed, no account needed. */
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()
const sources = { ceFiles: "examples/waste/cost-explorer", utilizationFile: "examples/waste/gpu-utilization.json" }

const report = await frugal.report(sources)
console.log(`${report.period.start}..${report.period.end}: $${report.totalCostUsd} spent, partial: ${report.partial}`)
for (const finding of report.findings.slice(0, 3)) console.log(`  ${finding.kind}: $${finding.costUsd} avoidable`)

// The same report as Markdown, HTML (with charts) or Slack blocks.
const markdown = await frugal.renderReport("md", sources)
console.log(markdown.split("\n")[0])
