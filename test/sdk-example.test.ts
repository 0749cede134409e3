/**
 * `examples/sdk/tour.ts` runs from the workspace: plan → run → status → report → simulate through `@frugal/sdk` alone
 * (the example is its own workspace package, depending on nothing else). `packed-install.test.ts` runs the same file
 * against the packed packages.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { expectTourOutput } from "./support/sdkTour.ts"

const exampleDirectory = fileURLToPath(new URL("../examples/sdk/", import.meta.url))

describe("examples/sdk/tour.ts", () => {
  it("plans, runs, reads the status, reports and simulates through the SDK alone", () => {
    const run = spawnSync(process.execPath, ["tour.ts"], { cwd: exampleDirectory, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    expectTourOutput(run.stdout)
  }, 120_000)
})
