/**
 * `Frugal.make()` runs jobs like `frugal run` does, through the real ledger (SQLite in a temporary FRUGAL_HOME given
 * as the SDK's `env`) and the reference trainer on this machine's Python with PyTorch.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { InvalidInput } from "@frugal/core"
import { JobNotFound } from "@frugal/runner"
import { Frugal } from "../src/index.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-sdk-jobs-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const tinyTrainFile = fileURLToPath(new URL("../../../examples/run/tiny-train.yaml", import.meta.url))
const tinyTrain = readFileSync(tinyTrainFile, "utf8")
const env = { ...process.env, FRUGAL_HOME: home }

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected the promise to reject")
}

describe("Frugal jobs", () => {
  it("runs a workload to its end, then reports it in status and logs as the CLI's --json does", async () => {
    await using frugal = Frugal.make({ env })
    const steps: Array<number> = []
    const ran = await frugal.run(tinyTrain, {
      source: tinyTrainFile,
      jobId: "sdk-tiny-1",
      onEvent: (event) => {
        if (event.event === "checkpoint") steps.push(event.step)
      }
    })
    expect(ran.job).toMatchObject({ id: "sdk-tiny-1", name: "tiny-train", state: "completed", attempts: 1, finalStep: 40 })
    expect(ran.job.weightsSha256).toMatch(/^[0-9a-f]{64}$/)
    expect(ran.attempts.map((attempt) => [attempt.sequence, attempt.outcome, attempt.runner])).toEqual([[1, "completed", "local"]])
    // FRUGAL_CHECKPOINT_EVERY_STEPS=5 in the example: a checkpoint every 5 of 40 steps.
    expect(steps).toEqual([5, 10, 15, 20, 25, 30, 35, 40])

    expect(await frugal.status("sdk-tiny-1")).toEqual(ran)
    const all = await frugal.status()
    expect(all.ledger).toBe(join(home, "ledger.sqlite"))
    expect(all.jobs.map((job) => job.id)).toEqual(["sdk-tiny-1"])

    const logs = await frugal.logs("sdk-tiny-1")
    expect(logs.attempts).toHaveLength(1)
    const texts = logs.attempts[0]?.events.map((event) => event.text) ?? []
    expect(texts[0]).toMatch(/^started \(pid \d+, cpu, fp32\), fresh$/)
    expect(texts.filter((text) => /^checkpoint at step \d+ \(1\.7 MB, loop blocked \d+\.\d{3} s\)$/.test(text))).toHaveLength(8)
    expect(texts.at(-1)).toBe(`completed at step 40, weights sha256 ${ran.job.weightsSha256}`)
  }, 120_000)

  it("continues a job the ledger has instead of starting it again", async () => {
    await using frugal = Frugal.make({ env })
    const again = await frugal.run(tinyTrain, { source: tinyTrainFile, jobId: "sdk-tiny-1" })
    expect(again.job.state).toBe("completed")
    expect(again.attempts).toHaveLength(1)
    const resumed = await frugal.resume("sdk-tiny-1")
    expect(resumed.attempts).toHaveLength(1)
  }, 60_000)

  it("dry-runs a workload: the ranked placements and the first launch, nothing started", async () => {
    await using frugal = Frugal.make({ env })
    const dry = await frugal.run(tinyTrain, { source: tinyTrainFile, jobId: "sdk-dry", dryRun: true })
    expect(dry.job).toMatchObject({ id: "sdk-dry", name: "tiny-train", runner: "local", policy: null })
    expect(dry.placements).toHaveLength(1)
    expect(dry.firstLaunch).toMatchObject({ engine: "local" })
    expect((await frugal.status()).jobs.map((job) => job.id)).not.toContain("sdk-dry")
  }, 60_000)

  it("rejects an unknown job with JobNotFound naming it, from status, logs and resume alike", async () => {
    await using frugal = Frugal.make({ env })
    for (const call of [frugal.status("nope"), frugal.logs("nope"), frugal.resume("nope")]) {
      const error = await rejection(call)
      expect(error).toBeInstanceOf(JobNotFound)
      if (error instanceof JobNotFound) expect(error.jobId).toBe("nope")
    }
  })

  it("rejects an attempt the job does not have, naming the field", async () => {
    await using frugal = Frugal.make({ env })
    const error = await rejection(frugal.logs("sdk-tiny-1", { attempt: 9 }))
    expect(error).toBeInstanceOf(InvalidInput)
    if (error instanceof InvalidInput) expect(error.issues[0]).toMatchObject({ path: "attempt", actual: "9" })
  })

  it("refuses a drill of nonsense settings before starting anything, naming each field", async () => {
    await using frugal = Frugal.make({ env })
    const error = await rejection(frugal.drill(tinyTrain, { interruptions: 0, graceSeconds: -1 }))
    expect(error).toBeInstanceOf(InvalidInput)
    if (error instanceof InvalidInput) expect(error.issues.map((issue) => issue.path)).toEqual(["interruptions", "graceSeconds"])
  })
})
