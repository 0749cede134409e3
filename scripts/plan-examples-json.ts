/**
 * Writes `frugal plan FILE --json` (and `--json --top 1000`) of every workload file in examples/ into a
 * directory, one file per example and depth, through the real `frugal` executable. Used to show that a
 * refactor of the planner leaves every plan byte-identical:
 *
 *   pnpm exec node scripts/plan-examples-json.ts /tmp/before      # on the old code
 *   pnpm exec node scripts/plan-examples-json.ts /tmp/after       # on the new code
 *   diff -r /tmp/before /tmp/after                                # no output: identical
 *
 * Exit codes are recorded too (`impossible-deadline.yaml` exits 3), so a changed outcome shows up in the diff.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const out = process.argv[2]
if (out === undefined) {
  console.error("usage: node scripts/plan-examples-json.ts OUT_DIR")
  process.exit(2)
}
const outDir = resolve(out)
mkdirSync(outDir, { recursive: true })
const bin = join(root, "packages/cli/bin/frugal.js")
const examples = readdirSync(join(root, "examples")).filter((name) => /\.(ya?ml|json)$/.test(name)).sort()
for (const name of examples) {
  for (const [suffix, extra] of [["", []], [".top1000", ["--top", "1000"]]] as const) {
    const run = spawnSync(process.execPath, [bin, "plan", join(root, "examples", name), "--json", ...extra], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 1 << 30,
      env: { ...process.env, FRUGAL_DEBUG: "", NO_COLOR: "1" }
    })
    writeFileSync(join(outDir, `${name}${suffix}.json`), `exit ${run.status}\n${run.stdout}${run.stderr}`)
  }
  console.log(name)
}
