/** Loads the spot traces committed under `packages/planner/data/spot-traces` (tests and bench). */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { decodeTraceFiles, type SpotTrace, type ZoneSet, zoneSetsOf } from "../../src/index.ts"

export const TRACES_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../data/spot-traces")

/** The two single-node AWS availability sets (Wu et al., NSDI '24; SkyNomad for 2023 prices). */
export const OCT_2022 = "availability/1-node/aws-10-26-2022"
export const FEB_2023 = "availability/1-node/aws-02-15-2023"

const cache = new Map<string, ReadonlyArray<SpotTrace>>()

export const loadTraces = (dir: string): ReadonlyArray<SpotTrace> => {
  const cached = cache.get(dir)
  if (cached !== undefined) return cached
  const root = join(TRACES_DIR, dir)
  const files = readdirSync(root)
    .filter((name) => name.endsWith(".json") || name.endsWith(".csv"))
    .map((name) => ({ path: join(root, name), text: readFileSync(join(root, name), "utf8") }))
  const traces = Effect.runSync(decodeTraceFiles(files))
  cache.set(dir, traces)
  return traces
}

export const loadZoneSets = (dir: string, zones: "single" | "multi"): ReadonlyArray<ZoneSet> =>
  zoneSetsOf(loadTraces(dir), zones)

/** The paper's prices: p3.2xlarge on-demand and the mean spot price of its traces (k ≈ 3.14). */
export const PAPER_ON_DEMAND_USD = 3.06
export const PAPER_SPOT_USD = 0.9731

/** The paper's job: C = 48 h, R = C / fraction, changeover d; trace prices where a trace has them. */
export const paperJob = (fraction: number, changeoverHours: number) => ({
  computeHours: 48,
  deadlineHours: 48 / fraction,
  changeoverHours,
  onDemandPriceUsdPerHour: PAPER_ON_DEMAND_USD,
  spotPriceUsdPerHour: PAPER_SPOT_USD,
  useTracePrices: true
})
