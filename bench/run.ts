/**
 * `pnpm bench`: runs every `bench/*.bench.ts` in its own process (so one benchmark's heap and
 * JIT state never colour another's) and prints their figures. `pnpm bench plan` runs only the
 * files whose name contains `plan`.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2]
const files = readdirSync(here)
  .filter((name) => name.endsWith(".bench.ts") && (filter === undefined || name.includes(filter)))
  .sort()

let failed = 0
for (const file of files) {
  console.log(`\n── ${file} ${"─".repeat(Math.max(0, 60 - file.length))}`)
  const result = spawnSync(process.execPath, ["--expose-gc", join(here, file)], { stdio: "inherit" })
  if (result.status !== 0) failed++
}
if (failed > 0) {
  console.error(`\n${failed} benchmark file(s) failed`)
  process.exit(1)
}
