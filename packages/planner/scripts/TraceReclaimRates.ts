/**
 * How often spot capacity was reclaimed in the committed single-node availability traces: for each trace, the hours
 * spot was available divided by the number of available→unavailable transitions (an MTBF per zone). This is the
 * evidence docs/catalog.md cites for reading the Spot Instance Advisor's buckets conservatively.
 *
 *   pnpm exec node packages/planner/scripts/TraceReclaimRates.ts [--advisor path/to/spot-advisor-data.json]
 *
 * With `--advisor`, it also prints the share of advisor rows (Linux, every region) in the worst bucket (>20%) for
 * the instance types of the embedded catalog against all other instance types.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { EmbeddedCatalog } from "@frugal/pricing"

const traces = fileURLToPath(new URL("../data/spot-traces/availability/1-node/", import.meta.url))
const TraceFile = Schema.Struct({ metadata: Schema.Struct({ gap_seconds: Schema.Number }), data: Schema.Array(Schema.Number) })

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] ?? Number.NaN : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

const byGpu = new Map<string, Array<number>>()
console.log("TRACE                                          AVAILABLE h  RECLAIMS  MTBF h")
for (const set of readdirSync(traces).sort()) {
  for (const file of readdirSync(join(traces, set)).filter((name) => name.endsWith("_1.json") || name.endsWith("_8.json")).sort()) {
    const trace = Schema.decodeUnknownSync(TraceFile)(JSON.parse(readFileSync(join(traces, set, file), "utf8")))
    // In these files 1 means spot was available during the tick (traces README).
    const availableHours = trace.data.filter((tick) => tick > 0).length * trace.metadata.gap_seconds / 3600
    let reclaims = 0
    for (let i = 1; i < trace.data.length; i++) if ((trace.data[i - 1] ?? 0) > 0 && trace.data[i] === 0) reclaims++
    const mtbf = reclaims === 0 ? Number.POSITIVE_INFINITY : availableHours / reclaims
    // File names end in <gpu>_<instances>.json: v100_1 is one p3.2xlarge, v100_8 a p3.16xlarge.
    const gpu = file.replace(/^.*_(\w+)_(\d+)\.json$/, (_, name: string, count: string) => `${name.toUpperCase()} ×${count}`)
    byGpu.set(gpu, [...(byGpu.get(gpu) ?? []), mtbf])
    console.log(`${`${set}/${file}`.padEnd(46)} ${availableHours.toFixed(1).padStart(11)}  ${String(reclaims).padStart(8)}  ${mtbf.toFixed(1).padStart(6)}`)
  }
}
for (const [gpu, values] of byGpu) {
  console.log(`${gpu}: ${values.length} traces, MTBF ${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)} h, median ${median(values).toFixed(1)} h`)
}

const advisorFlag = process.argv.indexOf("--advisor")
const advisorPath = advisorFlag >= 0 ? process.argv[advisorFlag + 1] : undefined
if (advisorPath !== undefined) {
  const Advisor = Schema.Struct({
    spot_advisor: Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Struct({ r: Schema.Number }))))
  })
  const advisor = Schema.decodeUnknownSync(Advisor)(JSON.parse(readFileSync(advisorPath, "utf8")))
  const accelerated = new Set(EmbeddedCatalog.snapshot().instanceTypes.map((type) => type.name))
  const tally = { gpu: [0, 0], other: [0, 0] }
  for (const region of Object.values(advisor.spot_advisor)) {
    for (const [type, row] of Object.entries(region["Linux"] ?? {})) {
      const group = accelerated.has(type) ? tally.gpu : tally.other
      group[0] = (group[0] ?? 0) + (row.r === 4 ? 1 : 0)
      group[1] = (group[1] ?? 0) + 1
    }
  }
  const share = ([worst, all]: Array<number>) => `${(((worst ?? 0) / Math.max(1, all ?? 0)) * 100).toFixed(0)}% of ${all} rows`
  console.log(`advisor rows in the >20% bucket: accelerated instance types ${share(tally.gpu)}, all others ${share(tally.other)}`)
}
