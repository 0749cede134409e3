/**
 * Writes docs/grafana/frugal.json: the Grafana dashboard of frugal server's metrics
 * (packages/server/src/metrics/GrafanaDashboard.ts). Run after changing a panel or a metric:
 * `pnpm exec node scripts/generate-grafana-dashboard.ts [OUT]`. A test (packages/server/test/MonitoringDocs.test.ts)
 * fails when the committed file is stale or a query names a metric /metrics does not export.
 */
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { writeFileAtomic } from "../packages/core/src/io/AtomicWrite.ts"
import { grafanaDashboardText } from "../packages/server/src/metrics/GrafanaDashboard.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const out = resolve(process.argv[2] ?? resolve(root, "docs/grafana/frugal.json"))
await Effect.runPromise(writeFileAtomic(out, grafanaDashboardText()))
console.log(`wrote ${out}`)
