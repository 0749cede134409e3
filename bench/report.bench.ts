/**
 * Waste report figures, in process: `analyzeWaste` on a 30-day month of a 100-instance fleet
 * (8 GPUs each, hourly samples: 576,000 GPU-hours) against the embedded catalog, and rendering that
 * report as Markdown, Block Kit and HTML (the HTML draws three ECharts SVGs). Median of 5 runs after a
 * warm-up; `pnpm bench report`.
 */
import { EmbeddedCatalog } from "../packages/pricing/src/index.ts"
import { analyzeWaste, datesOf, type GpuSeries, renderBlockKit, renderHtml, renderMarkdown } from "../packages/waste/src/index.ts"

const period = { start: "2026-10-01", end: "2026-10-31" }
const dates = datesOf(period)
const hours = dates.length * 24
const types = ["p4d.24xlarge", "g5.48xlarge", "p5.48xlarge", "g6e.48xlarge"]
const catalog = EmbeddedCatalog.catalog()

const compute = types.flatMap((instanceType, t) =>
  dates.flatMap((date) => [
    { date, instanceType, purchaseOption: "on-demand" as const, costUsd: 25 * 24 * (10 + t), usageHours: 25 * 24 },
    { date, instanceType, purchaseOption: "spot" as const, costUsd: 5 * 24 * (4 + t), usageHours: 5 * 24 }
  ])
)
const gpus: Array<GpuSeries> = []
for (let instance = 0; instance < 100; instance++) {
  for (let gpuIndex = 0; gpuIndex < 8; gpuIndex++) {
    gpus.push({
      instanceId: `i-${instance.toString(16).padStart(17, "0")}`,
      instanceType: types[instance % types.length] ?? "p4d.24xlarge",
      gpuIndex,
      samples: Array.from({ length: hours }, (_, hour) => ({
        time: new Date(Date.parse(`${period.start}T00:00:00Z`) + hour * 3_600_000).toISOString(),
        utilizationPct: (hour + instance) % 24 < 4 ? 5 : 40 + ((hour * 7 + gpuIndex) % 50),
        memoryUsedMiB: 20_000 + gpuIndex * 100
      }))
    })
  }
}
const costs = { period, compute, zones: [], usageTypes: [], reservations: [], savingsPlans: [], adjustments: [] }

const median = (run: () => void, times = 5): number => {
  run()
  const samples: Array<number> = []
  for (let i = 0; i < times; i++) {
    const start = performance.now()
    run()
    samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)] ?? Number.NaN
}

let report = analyzeWaste({ costs, gpus, catalog })
const analyzeMs = median(() => {
  report = analyzeWaste({ costs, gpus, catalog })
})
const markdownMs = median(() => void renderMarkdown(report))
const slackMs = median(() => void renderBlockKit(report))
let html = ""
const htmlMs = median(() => {
  html = renderHtml(report)
})
console.log(`fleet: 100 instances × 8 GPUs × ${hours} h = ${(100 * 8 * hours).toLocaleString("en-US")} GPU-hours, ${report.findings.length} findings`)
console.log(`analyzeWaste          ${analyzeMs.toFixed(1)} ms (median of 5)`)
console.log(`render markdown       ${markdownMs.toFixed(2)} ms`)
console.log(`render Block Kit      ${slackMs.toFixed(2)} ms`)
console.log(`render HTML (3 SVGs)  ${htmlMs.toFixed(1)} ms, ${(html.length / 1024).toFixed(0)} KiB`)
console.log(`heap used             ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`)
