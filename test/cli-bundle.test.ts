/**
 * `frugal plan` stays fast only while the CLI's start-up path stays small: the AWS SDK, Slack,
 * Kubernetes, SQLite and the browser tooling must be loaded lazily, by the commands that use them.
 * This builds the bundle the way `scripts/bundle-cli.ts` does (in memory) and checks what the entry
 * file loads before any command runs.
 */
import { build } from "esbuild"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { bundleOptions, startupBytes, startupDependencies } from "../scripts/bundle-cli.ts"

/** Minified bytes reachable through static imports when this test was written: about 0.95 MB. */
const STARTUP_BYTES_BUDGET = 1_500_000

const HEAVY = [/^@aws-sdk\//, /^@smithy\//, /^@slack\//, /^@kubernetes\//, /^node:sqlite$/, /^playwright/, /^echarts$/, /^undici$/]

describe("the CLI bundle", () => {
  it("loads no heavy dependency before a command runs, and stays within its start-up size budget", async () => {
    const result = await build(bundleOptions(join(tmpdir(), "frugal-bundle-check")))
    const entry = Object.keys(result.metafile.outputs).find((path) => path.endsWith("/frugal.js") && !path.includes("/chunks/"))
    expect(entry).toBeDefined()
    if (entry === undefined) return

    const dependencies = startupDependencies(result.metafile, entry)
    expect(dependencies).toContain("effect")
    expect(dependencies.filter((name) => HEAVY.some((heavy) => heavy.test(name)))).toEqual([])

    expect(startupBytes(result.metafile, entry)).toBeLessThan(STARTUP_BYTES_BUDGET)
  })
})
