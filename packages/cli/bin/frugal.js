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

await import(bundleIsCurrent() ? dist.href : new URL("../src/main.ts", import.meta.url).href)
