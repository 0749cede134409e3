/**
 * A job's workload is part of its identity, through the real `frugal` process: `frugal run FILE --job-id X` for an
 * existing X made from another workload is refused (exit 2) naming each field that differs, whether X completed or
 * was stopped halfway, and nothing runs; the same workload, however it is written, continues X.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runFrugal, startFrugal } from "./support/frugalCli.ts"
import { referenceTrainer, type TrainerLaunch, waitForOutput, writeSlowJob } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-job-identity-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let trainer: TrainerLaunch
beforeAll(async () => {
  trainer = await referenceTrainer(join(dir, "probe"))
})

/** Block-style YAML of a JSON value: maps indented, lists and scalars in flow style (JSON is valid YAML flow). */
const toYaml = (value: Record<string, unknown>, indent = ""): string =>
  Object.entries(value).map(([key, member]) =>
    typeof member === "object" && member !== null && !Array.isArray(member)
      ? `${indent}${key}:\n${toYaml(Object.fromEntries(Object.entries(member)), `${indent}  `)}`
      : `${indent}${key}: ${JSON.stringify(member)}\n`
  ).join("")

const attemptsOf = async (home: string, jobId: string): Promise<ReadonlyArray<string | null>> => {
  const status = await runFrugal(["status", jobId, "--json"], { env: { FRUGAL_HOME: home } })
  expect(status.code, status.stderr).toBe(0)
  const report: { readonly attempts: ReadonlyArray<{ readonly exitReason: string | null }> } = JSON.parse(status.stdout)
  return report.attempts.map((a) => a.exitReason)
}

describe("a job's workload", () => {
  it("is refused for a completed job when it differs, naming the fields; the same workload, rewritten, reports completed", async () => {
    const home = join(dir, "completed")
    const env = { FRUGAL_HOME: home }
    const narrow = writeSlowJob(dir, "narrow.json", trainer, { steps: 10, stepDelaySeconds: 0 })
    const wide = writeSlowJob(dir, "wide.json", trainer, { steps: 10, stepDelaySeconds: 0, hiddenSize: 128 })
    const first = await runFrugal(["run", narrow, "--job-id", "w64"], { env })
    expect(first.code, first.stderr).toBe(0)

    const other = await runFrugal(["run", wide, "--job-id", "w64"], { env })
    expect(other.code, other.stdout).toBe(2)
    expect(other.stderr).toContain("job w64 was created from another workload; refusing to continue it with this one")
    expect(other.stderr).toContain("model.hiddenSize: the job has 64, this workload has 128")
    expect(other.stderr).toMatch(/run\.command\[6\]: the job has "64", this workload has "128"/)
    expect(other.stdout).not.toContain("w64: completed")
    expect(other.stdout).not.toContain("continuing job")
    expect(await attemptsOf(home, "w64")).toEqual(["completed"])

    // The same workload as YAML with its keys in another order is the same job.
    const parsed: Record<string, unknown> = JSON.parse(readFileSync(narrow, "utf8"))
    const reordered = join(dir, "narrow.yaml")
    writeFileSync(reordered, `# the same job, written by hand\n${toYaml(Object.fromEntries(Object.entries(parsed).reverse()))}`)
    const same = await runFrugal(["run", reordered, "--job-id", "w64"], { env })
    expect(same.code, same.stderr).toBe(0)
    expect(same.stdout).toContain("job w64: completed")
    expect(await attemptsOf(home, "w64")).toEqual(["completed"])
  }, 180_000)

  it("is refused for a job stopped halfway, which then continues with its own workload", async () => {
    const home = join(dir, "stopped")
    const env = { FRUGAL_HOME: home }
    const narrow = writeSlowJob(dir, "halfway.json", trainer)
    const wide = writeSlowJob(dir, "halfway-wide.json", trainer, { hiddenSize: 128 })
    const running = startFrugal(["run", narrow, "--job-id", "half"], { env })
    await waitForOutput(running, /checkpoint at step 5/)
    running.child.kill("SIGINT")
    expect((await running.done).code).toBe(130)

    const other = await runFrugal(["run", wide, "--job-id", "half"], { env })
    expect(other.code, other.stdout).toBe(2)
    expect(other.stderr).toContain("model.hiddenSize: the job has 64, this workload has 128")
    expect(await attemptsOf(home, "half")).toEqual(["cancelled"])

    const same = await runFrugal(["run", narrow, "--job-id", "half"], { env })
    expect(same.code, same.stderr).toBe(0)
    expect(same.stdout).toMatch(/resumed from step \d+/)
    expect(await attemptsOf(home, "half")).toEqual(["cancelled", "completed"])
  }, 180_000)
})
