/**
 * `frugal` as a user meets it: a fresh process each time, timed from spawn to exit.
 *
 * - bare start-up (`frugal --version`),
 * - `frugal plan examples/llama-7b-finetune.yaml` end to end (target ≤ 400 ms),
 * - `frugal estimate`, `frugal gpus`,
 * - how fast a malformed spec is refused (a few of the bad-input cases).
 *
 * Runs the bin (bundle when current, else source) and, for comparison, the TypeScript source
 * directly. Median and p90 of N runs after one warm-up run; `FRUGAL_BENCH_RUNS` overrides N.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
const bin = join(root, "packages/cli/bin/frugal.js")
const source = join(root, "packages/cli/src/main.ts")
const runs = Number(process.env["FRUGAL_BENCH_RUNS"] ?? 15)
const PLAN_TARGET_MS = 400

/** The bin, forced to the bundle (another process editing a source file must not switch it to source mid-run). */
const bundleEnv = { ...process.env, FRUGAL_CLI: "bundle" }

const time = (entry: string, args: ReadonlyArray<string>): { readonly ms: number; readonly code: number | null } => {
  const started = performance.now()
  const result = spawnSync(process.execPath, [entry, ...args], { cwd: root, env: bundleEnv, stdio: ["ignore", "ignore", "pipe"] })
  return { ms: performance.now() - started, code: result.status }
}

const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

const measure = (label: string, entry: string, args: ReadonlyArray<string>, target?: number): void => {
  const warm = time(entry, args)
  const samples: Array<number> = []
  for (let i = 0; i < runs; i++) samples.push(time(entry, args).ms)
  samples.sort((a, b) => a - b)
  const median = quantile(samples, 0.5)
  const verdict = target === undefined ? "" : median <= target ? `  (target ≤ ${target} ms: met)` : `  (target ≤ ${target} ms: MISSED)`
  console.log(
    `${label.padEnd(44)} median ${median.toFixed(0).padStart(5)} ms   p90 ${quantile(samples, 0.9).toFixed(0).padStart(5)} ms   exit ${warm.code}${verdict}`
  )
}

const bundleBuilt = spawnSync(process.execPath, [join(root, "scripts/bundle-cli.ts")], { cwd: root, encoding: "utf8" })
console.log(bundleBuilt.status === 0 ? bundleBuilt.stdout.trim() : `bundle failed: ${bundleBuilt.stderr}`)
console.log(
  `node ${process.version}, ${runs} runs each after one warm-up; ${availableParallelism()} CPUs, ` +
    `load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} (wall-clock figures mean little on a busy machine)\n`
)

const example = join(root, "examples/llama-7b-finetune.yaml")
measure("frugal --version (bundle)", bin, ["--version"])
measure("frugal plan 7B fine-tune (bundle)", bin, ["plan", example], PLAN_TARGET_MS)
measure("frugal plan 7B fine-tune --json (bundle)", bin, ["plan", example, "--json"], PLAN_TARGET_MS)
measure("frugal plan fleet.yaml (bundle)", bin, ["plan", join(root, "examples/fleet.yaml")])
measure("frugal estimate 7B fine-tune (bundle)", bin, ["estimate", example])
measure("frugal gpus (bundle)", bin, ["gpus"])
measure("frugal --version (TypeScript source)", source, ["--version"])
measure("frugal plan 7B fine-tune (TypeScript source)", source, ["plan", example])

const dir = mkdtempSync(join(tmpdir(), "frugal-bench-"))
try {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["empty file", ""],
    ["unknown precision", "name: x\nkind: training\nmodel: { parameters: 7B, precision: fp64 }\ntraining: { tokens: 1B }\n"],
    ["alias bomb", ["a: &a [x, x, x, x, x, x, x, x, x, x]", ..."bcdefgh".split("").map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefgh"[i]}`).join(", ")}]`), "name: *h"].join("\n")],
    ["binary garbage", String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))]
  ]
  console.log("")
  for (const [label, content] of bad) {
    const file = join(dir, `${label.replaceAll(" ", "-")}.yaml`)
    writeFileSync(file, content, "latin1")
    measure(`bad input: ${label} (bundle)`, bin, ["plan", file])
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
