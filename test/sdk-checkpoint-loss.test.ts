/**
 * Checkpoint loss and the job lease through the SDK: a job stopped with Ctrl-C at step 10 (by the real `frugal`
 * process), whose checkpoints are then deleted, is failed by `Frugal.resume` naming the loss, and started over by
 * `resume(…, { fromScratch: true })`, ending with the weights of an uninterrupted run. While another process
 * supervises a job, `Frugal.run` of the same id is refused with JobLeased naming that process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Frugal } from "@frugal/sdk"
import { JobLeased } from "@frugal/sdk/jobs"
import { startFrugal } from "./support/frugalCli.ts"
import { referenceTrainer, type TrainerLaunch, waitForOutput, writeSlowJob } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-sdk-checkpoint-loss-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let trainer: TrainerLaunch
beforeAll(async () => {
  trainer = await referenceTrainer(join(dir, "probe"))
})

const rejection = (call: Promise<unknown>): Promise<unknown> => call.then(() => undefined, (error: unknown) => error)

describe("Frugal.resume and Frugal.run on a job in trouble", () => {
  it("fails a job whose checkpoints are gone, naming the loss, and fromScratch starts it over to the uninterrupted weights", async () => {
    const home = join(dir, "gone")
    const file = writeSlowJob(dir, "gone.json", trainer, { stepDelaySeconds: 0.05 })
    const workload = readFileSync(file, "utf8")
    await using frugal = Frugal.make({ env: { ...process.env, FRUGAL_HOME: home } })

    const straight = await frugal.run(workload, { source: file, jobId: "straight" })
    expect(straight.job.state).toBe("completed")

    const running = startFrugal(["run", file, "--job-id", "wiped"], { env: { FRUGAL_HOME: home } })
    await waitForOutput(running, /checkpoint at step 10/)
    running.child.kill("SIGINT")
    expect((await running.done).code).toBe(130)
    rmSync(join(home, "jobs", "wiped", "checkpoints"), { recursive: true })

    const lost = await frugal.resume("wiped")
    expect(lost.job.state).toBe("failed")
    expect(lost.job.detail).toMatch(/^checkpoint lost: the job reported a checkpoint at step 1\d durable, but the relaunched command found none/)
    expect(readdirSync(join(home, "jobs", "wiped", "checkpoints")).filter((name) => name.startsWith("step-"))).toEqual([])

    const over = await frugal.resume("wiped", { fromScratch: true, workload: { input: workload, source: file } })
    expect(over.job.state).toBe("completed")
    expect(over.job.weightsSha256).toBe(straight.job.weightsSha256)
    expect(over.attempts.at(-1)?.resumedFromStep).toBeNull()
  }, 240_000)

  it("refuses to run a job another process supervises, naming that process", async () => {
    const home = join(dir, "leased")
    const file = writeSlowJob(dir, "leased.json", trainer, { stepDelaySeconds: 0.1 })
    const running = startFrugal(["run", file, "--job-id", "held"], { env: { FRUGAL_HOME: home } })
    try {
      await waitForOutput(running, /\[attempt 1\] started/)
      await using frugal = Frugal.make({ env: { ...process.env, FRUGAL_HOME: home } })
      const status = await frugal.status("held")
      expect(status.supervisor?.pid).toBe(running.child.pid)
      const refused = await rejection(frugal.run(readFileSync(file, "utf8"), { source: file, jobId: "held" }))
      expect(refused).toBeInstanceOf(JobLeased)
      if (refused instanceof JobLeased) expect(refused.holderPid).toBe(running.child.pid)
    } finally {
      running.child.kill("SIGINT")
      await running.done
    }
  }, 240_000)
})
