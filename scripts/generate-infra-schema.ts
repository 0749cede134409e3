/**
 * Writes docs/infra.schema.json from the infrastructure profile Effect Schema (packages/core/src/InfraProfile.ts).
 * Run after changing the spec: `pnpm exec node scripts/generate-infra-schema.ts [OUT]`.
 * A test (packages/core/test/InfraProfile.test.ts) fails when the committed file is stale.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { infraProfileJsonSchemaText } from "../packages/core/src/InfraProfileJsonSchema.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const out = resolve(process.argv[2] ?? resolve(root, "docs/infra.schema.json"))
mkdirSync(dirname(out), { recursive: true })
// Temp file + rename: a failed run never leaves a half-written schema behind.
const temp = `${out}.tmp-${process.pid}`
writeFileSync(temp, infraProfileJsonSchemaText())
renameSync(temp, out)
console.log(`wrote ${out}`)
