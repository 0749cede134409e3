/**
 * Writes docs/workload.schema.json from the workload Effect Schema (packages/core/src/Workload.ts).
 * Run after changing the spec: `pnpm exec node scripts/generate-workload-schema.ts [OUT]`.
 * A test (packages/core/test/WorkloadJsonSchema.test.ts) fails when the committed file is stale.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { workloadJsonSchemaText } from "../packages/core/src/WorkloadJsonSchema.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const out = resolve(process.argv[2] ?? resolve(root, "docs/workload.schema.json"))
mkdirSync(dirname(out), { recursive: true })
// Temp file + rename: a failed run never leaves a half-written schema behind.
const temp = `${out}.tmp-${process.pid}`
writeFileSync(temp, workloadJsonSchemaText())
renameSync(temp, out)
console.log(`wrote ${out}`)
