/**
 * The ledger's file, through the real `frugal` process: a page-corrupted ledger is refused on open (exit 1, naming
 * the file and what to do) instead of taking more jobs; a disk that fills up under a running job ends the run with
 * a clear failure (exit 1, no "cannot rollback"), and once space is freed `--resume` continues the job.
 *
 * The full disk is real: a 4 MiB tmpfs holds FRUGAL_HOME (mounting needs root; elsewhere that test is skipped and
 * packages/runner/test/LedgerSqlite.test.ts covers the same path with SQLite's max_page_count).
 */
import { spawnSync } from "node:child_process"
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { example, runFrugal, startFrugal } from "./support/frugalCli.ts"
import { referenceTrainer, type TrainerLaunch, waitForOutput, writeSlowJob } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-ledger-integrity-"))
const mounted: Array<string> = []
afterAll(() => {
  for (const point of mounted) spawnSync("umount", ["-l", point])
  rmSync(dir, { recursive: true, force: true })
})

/** A 4 MiB tmpfs at a new folder, or null where this process may not mount one. */
const smallDisk = (): string | null => {
  const point = join(dir, "small-disk")
  mkdirSync(point, { recursive: true })
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", point])
  if (mount.status !== 0) return null
  mounted.push(point)
  return point
}

let trainer: TrainerLaunch
beforeAll(async () => {
  trainer = await referenceTrainer(join(dir, "probe"))
})

describe("the ledger file", () => {
  it("is refused on open when a page is corrupt: exit 1 naming the file and what to do, and no job is added", async () => {
    const home = join(dir, "corrupt")
    const created = await runFrugal(["status"], { env: { FRUGAL_HOME: home } })
    expect(created.code, created.stderr).toBe(0)
    const path = join(home, "ledger.sqlite")
    // Three hundred old jobs, so the jobs table spans many pages; then one page in the middle is overwritten,
    // which neither looking a job up by id nor adding one would ever read.
    const db = new DatabaseSync(path)
    const insert = db.prepare(
      "INSERT INTO jobs (id, name, status, runner, spec_json, created_ms, updated_ms) VALUES (?, 'old', 'completed', 'local', ?, 0, 0)"
    )
    db.exec("BEGIN")
    for (let i = 0; i < 300; i++) insert.run(`old-${i}`, JSON.stringify({ padding: "x".repeat(900), i }))
    db.exec("COMMIT")
    const pageSize = Number(db.prepare("PRAGMA page_size").get()?.["page_size"])
    const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf' ORDER BY pageno").all()
      .map((row) => Number(row["pageno"]))
    db.close()
    const victim = pages[Math.floor(pages.length / 2)] ?? 0
    expect(pages.length).toBeGreaterThan(20)
    const fd = openSync(path, "r+")
    writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, (victim - 1) * pageSize)
    closeSync(fd)

    const run = await runFrugal(["run", example("run/tiny-train.yaml"), "--job-id", "after-damage"], { env: { FRUGAL_HOME: home } })
    expect(run.code, run.stdout).toBe(1)
    expect(run.stderr).toContain(`error: ledger ${path}: open failed: SQLite's integrity check failed`)
    expect(run.stderr).toContain(`mv ${path} ${path}.damaged`)
    expect(run.stderr).not.toContain("This is a bug")
    expect(run.stdout).not.toContain("[attempt")
    const status = await runFrugal(["status"], { env: { FRUGAL_HOME: home } })
    expect(status.code).toBe(1)
    expect(status.stderr).toContain("integrity check failed")
    const check = new DatabaseSync(path, { readOnly: true })
    expect(check.prepare("SELECT id FROM jobs WHERE id = 'after-damage'").get()).toBeUndefined()
    check.close()
  }, 120_000)

  const disk = smallDisk()
  it.skipIf(disk === null)("fails cleanly when the disk fills up mid-run and the job continues with --resume once there is space", async () => {
    const home = join(disk ?? dir, "home")
    const env = { FRUGAL_HOME: home }
    const file = writeSlowJob(dir, "disk-full.json", trainer, { checkpointDir: join(dir, "disk-full-checkpoints") })
    const running = startFrugal(["run", file, "--job-id", "full", "--price-per-hour", "3600"], { env })
    await waitForOutput(running, /checkpoint at step 5/)

    // Fill the disk to the last byte.
    const filler = join(disk ?? dir, "filler")
    const fd = openSync(filler, "w")
    const block = Buffer.alloc(64 * 1024, 1)
    for (let size = block.length; size >= 1; size = Math.floor(size / 2)) {
      try {
        while (true) writeSync(fd, block, 0, size)
      } catch {
        // ENOSPC at this size: try smaller pieces, down to one byte
      }
    }
    closeSync(fd)

    const failed = await running.done
    expect(failed.code, failed.stdout).toBe(1)
    expect(failed.stderr).toMatch(/error: ledger .*ledger\.sqlite: \w+ failed: database or disk is full/)
    expect(failed.stderr).toContain("is full; the write was rolled back whole")
    expect(failed.stderr).toContain("frugal run --resume")
    expect(failed.stderr).not.toContain("cannot rollback")
    expect(failed.stderr).not.toContain("This is a bug")

    rmSync(filler)
    const resumed = await runFrugal(["run", "--resume", "full"], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toMatch(/resumed from step (\d+)/)
    expect(resumed.stdout).toContain("job full: completed")
    const report: { readonly attempts: ReadonlyArray<{ readonly exitReason: string }> } =
      JSON.parse((await runFrugal(["status", "full", "--json"], { env })).stdout)
    expect(report.attempts.map((a) => a.exitReason)).toEqual(["lost", "completed"])
    expect(existsSync(join(home, "ledger.sqlite"))).toBe(true)
  }, 180_000)
})
