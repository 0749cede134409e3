#!/usr/bin/env node
// Runs the bundled CLI (dist/frugal.js, built by scripts/bundle-cli.ts: one file, starts in a
// fraction of the time) when it is current, else the TypeScript source through Node's type
// stripping. "Current" means no source file the bundle was built from changed after it, so an edit
// to the source is never hidden by a stale bundle.
import { readFileSync, statSync } from "node:fs"
import * as nodeModule from "node:module"

// V8 keeps the compiled bundle on disk (in the OS temp dir) between runs: compiling ~800 KB of
// JavaScript is otherwise a third of the start-up time. Absent before Node 22.1; harmless to skip.
nodeModule.enableCompileCache?.()

const dist = new URL("../dist/frugal.js", import.meta.url)
const inputs = new URL("../dist/frugal.inputs.json", import.meta.url)

const bundleIsCurrent = () => {
  try {
    const builtAt = statSync(dist).mtimeMs
    const sources = JSON.parse(readFileSync(inputs, "utf8"))
    const root = new URL("../../../", import.meta.url)
    for (const source of sources) {
      if (statSync(new URL(source, root)).mtimeMs > builtAt) return false
    }
    return true
  } catch {
    return false
  }
}

const bundleExists = () => {
  try {
    return statSync(dist).isFile()
  } catch {
    return false
  }
}

// Node before 22.18 cannot run the TypeScript source (no type stripping by default): a stale bundle
// is then better than a crash, and no bundle at all gets a sentence instead of a stack trace.
const canRunSource = process.features?.typescript !== undefined && process.features.typescript !== false

// FRUGAL_CLI=bundle or FRUGAL_CLI=source forces one (benchmarks, debugging the bundle).
const forced = process.env.FRUGAL_CLI

if (forced === "bundle" || (forced !== "source" && bundleIsCurrent())) {
  await import(dist.href)
} else if (canRunSource) {
  await import(new URL("../src/main.ts", import.meta.url).href)
} else if (bundleExists()) {
  process.stderr.write("frugal: warning: the bundled CLI is older than its source; run `pnpm build` to refresh it\n")
  await import(dist.href)
} else {
  process.stderr.write(
    `frugal: Node ${process.version} cannot run the TypeScript source and the bundle is missing; ` +
      "run `pnpm install` (which builds it), or run through pnpm (`pnpm exec frugal`) to use the pinned Node 24\n"
  )
  process.exitCode = 1
}
