/**
 * Writes docs/openapi.json: the OpenAPI document of `frugal server`, generated from its routes and their Schemas
 * (packages/server/src/OpenApi.ts), the same document the server serves at /api/v1/openapi.json.
 * Run after changing a route or its Schemas: `pnpm exec node scripts/generate-openapi.ts [OUT]`.
 * A test (packages/server/test/OpenApi.test.ts) fails when the committed file is stale.
 */
import { resolve } from "node:path"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { writeFileAtomic } from "../packages/core/src/io/AtomicWrite.ts"
import { openApiText } from "../packages/server/src/Serve.ts"
import packageJson from "../packages/cli/package.json" with { type: "json" }

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const out = resolve(process.argv[2] ?? resolve(root, "docs/openapi.json"))
await Effect.runPromise(writeFileAtomic(out, openApiText(packageJson.version)))
console.log(`wrote ${out}`)
