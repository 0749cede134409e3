/**
 * In-process planner figures: the median time of `plan` for one workload against the whole embedded catalog
 * (target ≤ 5 ms) and a 10,000-workload `planFleet` (target ≤ 3 s, peak memory ≤ 300 MB), with RSS and heap.
 * `pnpm bench plan`. Times exclude loading the catalog, which is reported on its own (paid once per process).
 *
 * Measured twice, each in a fresh process: loaded from TypeScript source (as the SDK is imported) and as one
 * esbuild bundle (as the `frugal` CLI ships). Loading hundreds of TypeScript files through type stripping
 * costs the source process about 65 MB more RSS before any planning starts (194 MB against 129 MB when
 * measured), so the 300 MB target is met bundled and borderline from source.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = fileURLToPath(new URL("../", import.meta.url))
const entry = "import { runPlanBench } from './packages/planner/test/bench/PlanBench.ts'\nrunPlanBench()\n"

const run = (label: string, args: ReadonlyArray<string>): number => {
  console.log(`\n${label}`)
  const result = spawnSync(process.execPath, ["--expose-gc", ...args], { cwd: root, stdio: "inherit" })
  return result.status ?? 1
}

const sourceStatus = run("from TypeScript source (as the SDK loads it):", ["--input-type=module", "-e", entry])

const dir = mkdtempSync(join(tmpdir(), "frugal-plan-bench-"))
try {
  const outfile = join(dir, "plan-bench.mjs")
  await build({
    stdin: { contents: entry, resolveDir: root, loader: "ts", sourcefile: "plan-bench-entry.ts" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    outfile,
    logLevel: "error",
    // As the CLI bundle does: CommonJS dependencies (yaml) call `require`, which ESM lacks.
    banner: { js: "import{createRequire as __frugalRequire}from\"node:module\";const require=__frugalRequire(import.meta.url);" }
  })
  const bundleStatus = run("bundled (as the frugal CLI ships it):", [outfile])
  process.exitCode = sourceStatus !== 0 || bundleStatus !== 0 ? 1 : 0
} finally {
  rmSync(dir, { recursive: true, force: true })
}
