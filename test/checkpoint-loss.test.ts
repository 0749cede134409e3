/**
 * Checkpoint loss is loud, through the real `frugal` process and the reference trainer: when every checkpoint of a
 * job is corrupt, `frugal run --resume` stops with exit 1 naming each file and the check it failed, and so does
 * `frugal status`; when the checkpoints are gone altogether, the relaunch that started from step 0 is stopped and
 * the job says so. `--from-scratch` starts over and ends with the weights of an uninterrupted run.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runFrugal, startFrugal } from "./support/frugalCli.ts"
import { referenceTrainer, type TrainerLaunch, waitForOutput, writeSlowJob } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-checkpoint-loss-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let trainer: TrainerLaunch
beforeAll(async () => {
  trainer = await referenceTrainer(join(dir, "probe"))
})

/** Starts the job and stops it with Ctrl-C once it has checkpointed step 10 (the trainer writes a final one). */
const runUntilStep10 = async (home: string, file: string, jobId: string): Promise<void> => {
  const running = startFrugal(["run", file, "--job-id", jobId], { env: { FRUGAL_HOME: home } })
  await waitForOutput(running, /checkpoint at step 10/)
  running.child.kill("SIGINT")
  expect((await running.done).code).toBe(130)
}

const flipOneByte = (path: string): void => {
  const fd = openSync(path, "r+")
  const at = Math.floor(statSync(path).size / 2)
  const byte = Buffer.alloc(1)
  readSync(fd, byte, 0, 1, at)
  writeSync(fd, Buffer.from([(byte[0] ?? 0) ^ 0xff]), 0, 1, at)
  closeSync(fd)
}

interface StatusJson {
  readonly job: { readonly status: string; readonly detail: string | null; readonly weightsSha256: string | null }
  readonly attempts: ReadonlyArray<{ readonly exitReason: string | null; readonly resumedFromStep: number | null }>
}

describe("checkpoint loss", () => {
  it("stops --resume with exit 1 naming every corrupt file and its check, shows it in status, and --from-scratch starts over", async () => {
    const home = join(dir, "corrupt")
    const env = { FRUGAL_HOME: home }
    const file = writeSlowJob(dir, "corrupt.json", trainer, { stepDelaySeconds: 0.05 })
    const reference = await runFrugal(["run", file, "--job-id", "straight"], { env })
    expect(reference.code, reference.stderr).toBe(0)
    const referenceHash = /weights sha256: ([0-9a-f]{64})/.exec(reference.stdout)?.[1]

    await runUntilStep10(home, file, "hurt")
    const checkpoints = join(home, "jobs", "hurt", "checkpoints")
    const files = readdirSync(checkpoints).filter((name) => /^step-\d+\.ckpt$/.test(name)).sort()
    expect(files.length).toBeGreaterThanOrEqual(2)
    for (const name of files) flipOneByte(join(checkpoints, name))

    const resumed = await runFrugal(["run", "--resume", "hurt"], { env })
    expect(resumed.code, resumed.stdout).toBe(1)
    expect(resumed.stderr).toContain(`checkpoint lost: no valid checkpoint in ${checkpoints}; every one failed verification`)
    for (const name of files) {
      expect(resumed.stderr).toContain(`${join(checkpoints, name)} (step ${Number(name.slice(5, 13))}): checksum mismatch`)
    }
    expect(resumed.stderr).toContain("frugal run --resume hurt --from-scratch")
    expect(resumed.stderr).not.toMatch(/^\s+at\s/m)
    expect(resumed.stdout).not.toContain("hurt: completed")

    const text = await runFrugal(["status", "hurt"], { env })
    expect(text.stdout).toContain("job hurt (slow-tiny): failed — checkpoint lost: no valid checkpoint")
    expect(text.stdout).toContain(`${join(checkpoints, files[0] ?? "")} (step`)
    const report: StatusJson = JSON.parse((await runFrugal(["status", "hurt", "--json"], { env })).stdout)
    expect(report.job.status).toBe("failed")
    expect(report.job.detail).toContain("checksum mismatch")
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["cancelled", "crashed"])

    const over = await runFrugal(["run", "--resume", "hurt", "--from-scratch"], { env })
    expect(over.code, over.stderr).toBe(0)
    expect(over.stdout).toContain(", fresh")
    expect(over.stdout).toContain(`weights sha256: ${referenceHash}`)
    expect(readdirSync(checkpoints).some((name) => name.startsWith("invalid-"))).toBe(true)
  }, 240_000)

  it("stops a relaunch that finds the checkpoint directory emptied and started from step 0", async () => {
    const home = join(dir, "gone")
    const env = { FRUGAL_HOME: home }
    const file = writeSlowJob(dir, "gone.json", trainer, { stepDelaySeconds: 0.05 })
    await runUntilStep10(home, file, "wiped")
    rmSync(join(home, "jobs", "wiped", "checkpoints"), { recursive: true })

    const resumed = await runFrugal(["run", "--resume", "wiped"], { env })
    expect(resumed.code, resumed.stdout).toBe(1)
    expect(resumed.stderr).toMatch(/checkpoint lost: the job reported a checkpoint at step 1\d durable, but the relaunched command found none/)
    expect(resumed.stderr).toContain("frugal run --resume wiped --from-scratch")
    const report: StatusJson = JSON.parse((await runFrugal(["status", "wiped", "--json"], { env })).stdout)
    expect(report.job.status).toBe("failed")
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["cancelled", "interrupted"])
    // Stopped before it could write a checkpoint of step 0's run over the evidence.
    expect(readdirSync(join(home, "jobs", "wiped", "checkpoints")).filter((name) => name.startsWith("step-"))).toEqual([])

    // Resuming again without --from-scratch keeps refusing; with it, the job starts over and completes.
    expect((await runFrugal(["run", "--resume", "wiped"], { env })).code).toBe(1)
    const over = await runFrugal(["run", "--resume", "wiped", "--from-scratch"], { env })
    expect(over.code, over.stderr).toBe(0)
    expect(over.stdout).toContain("job wiped: completed")
  }, 240_000)
})
