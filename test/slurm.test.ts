/**
 * The Slurm engine against a real one-node Slurm cluster on loopback (Debian's slurm-wlm and munge, started
 * by the test as root): `frugal run --runner slurm` trains the CPU reference model; `scontrol requeue` pre-empts
 * it mid-run; the requeued batch job resumes from its checkpoint and ends on the same weights as a run that was
 * never interrupted, and `frugal status` shows both attempts with their costs. Without root or the binaries the
 * test fails and says what to install: CI has both.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type LocalSlurmCluster, startLocalSlurmCluster } from "../packages/runner-slurm/test/LocalSlurmCluster.ts"
import { example, frugalBin, repoRoot, runFrugal } from "./support/frugalCli.ts"

let cluster: LocalSlurmCluster | undefined
let home = ""
const started: Array<ChildProcess> = []

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "frugal-slurm-home-"))
  cluster = await startLocalSlurmCluster()
}, 60_000)

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL")
  await cluster?.stop()
  rmSync(home, { recursive: true, force: true })
}, 60_000)

const envFor = (): Record<string, string> => {
  if (cluster === undefined) throw new Error("no Slurm cluster")
  return {
    ...cluster.env,
    FRUGAL_HOME: home,
    FRUGAL_SLURM_PARTITION: cluster.partition,
    // A CPU cluster: without a profile the engine would ask for the plan's GPUs per node.
    FRUGAL_SLURM_GPUS_PER_NODE: "0",
    FRUGAL_SLURM_TIME_MINUTES: "10",
    FRUGAL_SLURM_CPUS_PER_TASK: "1"
  }
}

const slurm = (program: string, args: ReadonlyArray<string>): string =>
  execFileSync(program, args, { env: { ...process.env, ...envFor() }, encoding: "utf8", timeout: 10_000 })

const weightsHash = (stdout: string): string | undefined => /weights sha256: ([0-9a-f]{64})/.exec(stdout)?.[1]

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

describe("frugal run --runner slurm on a real Slurm cluster", () => {
  let referenceHash: string | undefined

  it("trains the reference model to completion as a Slurm batch job", async () => {
    const run = await runFrugal(
      ["run", example("cluster/slurm-cpu.yaml"), "--runner", "slurm", "--job-id", "reference"],
      { env: envFor() }
    )
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/job reference: completed/)
    expect(run.stdout).toMatch(/attempts: 1 \(completed\)/)
    referenceHash = weightsHash(run.stdout)
    expect(referenceHash).toMatch(/^[0-9a-f]{64}$/)
  }, 120_000)

  it("resumes a job pre-empted with scontrol requeue and ends on the uninterrupted run's weights", async () => {
    const child = spawn(process.execPath, [
      frugalBin,
      "run",
      example("cluster/slurm-cpu.yaml"),
      "--runner",
      "slurm",
      "--job-id",
      "preempted",
      "--price-per-hour",
      "3.6"
    ], { cwd: repoRoot, env: { ...process.env, ...envFor(), NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
    started.push(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))

    // Pre-empt once the first attempt has written a checkpoint past step 10.
    for (let i = 0; i < 600 && !/\[attempt 1\] checkpoint at step (1[5-9]|[2-9]\d)/.test(stdout); i++) await sleep(100)
    expect(stdout).toMatch(/\[attempt 1\] checkpoint at step/)
    const slurmJobId = slurm("squeue", ["--noheader", "--name=frugal-preempted", "--format=%i"]).trim()
    expect(slurmJobId).toMatch(/^\d+$/)
    slurm("scontrol", ["requeue", slurmJobId])

    // Slurm holds a requeued job back (BeginTime, about two minutes). Meanwhile the supervisor puts its own hold on
    // it, so the run cannot start unwatched, and releases it when its next attempt claims the run; then the test
    // starts it at once instead of waiting out BeginTime.
    const firstLog = join(home, "jobs", "preempted", "logs", "preempted-1.log")
    for (let i = 0; i < 300 && !(existsSync(firstLog) && readFileSync(firstLog, "utf8").includes("held until the next attempt")); i++) {
      await sleep(100)
    }
    for (let i = 0; i < 100; i++) {
      const state = slurm("scontrol", ["--oneliner", "show", "job", slurmJobId])
      if (/JobState=PENDING/.test(state) && /Restarts=1/.test(state) && !/Reason=JobHeld/.test(state)) {
        slurm("scontrol", ["update", `JobId=${slurmJobId}`, "StartTime=now"])
        break
      }
      await sleep(200)
    }

    const code = await Promise.race([exited, sleep(150_000).then(() => "timeout" as const)])
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toMatch(/\[attempt 1\] interrupted by SIGTERM at step \d+, final checkpoint \d+/)
    expect(stdout).toMatch(/\[attempt 1\] interrupted \(resumable\)/)
    expect(stdout).toMatch(/\[attempt 2\] started on .*\(pid \d+, cpu, fp32\), resumed from step \d+/)
    expect(stdout).toMatch(/attempts: 2 \(interrupted, completed\)/)
    expect(weightsHash(stdout)).toBe(referenceHash)

    // The requeued run waited, held, until attempt 2 claimed it: it could not start unwatched while the supervisor decided.
    const logs = await runFrugal(["logs", "preempted", "--attempt", "1"], { env: envFor() })
    expect(logs.stdout, logs.stdout).toMatch(new RegExp(`Slurm job ${slurmJobId} requeued; held until the next attempt claims it`))
    const status = await runFrugal(["status", "preempted"], { env: envFor() })
    expect(status.code).toBe(0)
    const rows = status.stdout.split("\n").filter((line) => /^[12]\s+frugal slurm on-demand\s/.test(line))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatch(/interrupted \(resumable\).*\$\d+\.\d{2,4}\s*$/)
    expect(rows[1]).toMatch(/completed.*\$\d+\.\d{2,4}\s*$/)
    // Both runs were one Slurm batch job: the second attempt is its restart 1, not a new submission.
    expect(slurm("scontrol", ["--oneliner", "show", "job", slurmJobId])).toMatch(/Restarts=1/)
  }, 240_000)

  /** A workload file: the Slurm CPU example with `extra` added to it (a section, or lines of its run: section). */
  const variant = (name: string, edit: (text: string) => string): string => {
    const file = join(home, `${name}.yaml`)
    writeFileSync(file, edit(readFileSync(example("cluster/slurm-cpu.yaml"), "utf8")).replace(/^name: .*$/m, `name: ${name}`))
    return file
  }

  /** `frugal run` in the background, with the Slurm job of `jobId` requeued once its first attempt has checkpointed. */
  const runRequeuedOnce = async (args: ReadonlyArray<string>, jobId: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, [frugalBin, "run", ...args, "--job-id", jobId], {
      cwd: repoRoot,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    started.push(child)
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    for (let i = 0; i < 900 && !/\[attempt 1\] checkpoint at step (1[5-9]|[2-9]\d)/.test(stdout); i++) await sleep(100)
    expect(stdout).toMatch(/\[attempt 1\] checkpoint at step/)
    const slurmJobId = slurm("squeue", ["--noheader", `--name=frugal-${jobId}`, "--format=%i"]).trim()
    expect(slurmJobId).toMatch(/^\d+$/)
    slurm("scontrol", ["requeue", slurmJobId])
    for (let i = 0; i < 100; i++) {
      const state = slurm("scontrol", ["--oneliner", "show", "job", slurmJobId])
      if (/JobState=PENDING/.test(state) && /Restarts=1/.test(state)) {
        slurm("scontrol", ["update", `JobId=${slurmJobId}`, "StartTime=now"])
        break
      }
      await sleep(200)
    }
    const code = await Promise.race([exited, sleep(180_000).then(() => "timeout" as const)])
    return { code, stdout, stderr, slurmJobId }
  }

  it("places a profile's partitions as priced capacity: a requeue in the preemptible one makes the policy relaunch in the other", async () => {
    const profile = join(home, "infra.yaml")
    writeFileSync(profile, [
      "slurm:",
      "  - name: local",
      "    partitions:",
      "      - { name: frugal, accelerator: T4, gpusPerNode: 1, nodes: 1, hourlyPriceUsd: 0.2, preemptible: true }",
      "      - { name: frugal-od, accelerator: T4, gpusPerNode: 1, nodes: 1, hourlyPriceUsd: 0.5 }"
    ].join("\n"))
    const file = variant("moved", (text) => text.replace(/^run:/m, "resources:\n  accelerators: [T4]\nrun:"))
    // No FRUGAL_SLURM_TIME_MINUTES: each attempt's --time is derived from the work left at its partition.
    const env = { ...envFor(), FRUGAL_SLURM_PARTITION: "", FRUGAL_SLURM_GPUS_PER_NODE: "", FRUGAL_SLURM_TIME_MINUTES: "" }
    const dry = await runFrugal(["run", file, "--infra", profile, "--policy", "on-demand", "--dry-run", "--json"], { env })
    expect(dry.code, dry.stderr).toBe(0)
    const placements = (JSON.parse(dry.stdout) as { placements: ReadonlyArray<{ runner: string; pool: string; purchaseOption: string }> }).placements
    expect(placements.map((p) => [p.runner, p.pool, p.purchaseOption])).toEqual([["slurm", "local/frugal", "spot"], ["slurm", "local/frugal-od", "on-demand"]])

    const run = await runRequeuedOnce([file, "--infra", profile, "--policy", "on-demand"], "moved", env)
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\[next\] slurm local\/frugal-od on-demand at \$0\.50\/h: policy on-demand: on-demand/)
    expect(weightsHash(run.stdout)).toBe(referenceHash)

    // What each attempt asked Slurm for: the placement's partition, one GPU per node on one node, and a time limit
    // of its own (the few seconds of work left there, plus 15 minutes for start-up and the final checkpoint).
    const scripts = join(home, "jobs", "moved", "slurm")
    const limits: Array<number> = []
    for (const [attempt, partition] of [["moved-1", "frugal"], ["moved-2", "frugal-od"]] as const) {
      const script = readFileSync(join(scripts, `${attempt}.sbatch`), "utf8")
      expect(script).toContain(`#SBATCH --partition=${partition}\n`)
      expect(script).toContain("#SBATCH --nodes=1\n")
      expect(script).toContain("#SBATCH --gpus-per-node=1\n")
      expect(script).not.toContain("FRUGAL_SLURM_TIME_MINUTES")
      limits.push(Number(/#SBATCH --time=(\d+)\n/.exec(script)?.[1]))
    }
    expect(limits[0]).toBeGreaterThanOrEqual(15)
    expect(limits[1]).toBeGreaterThanOrEqual(15)
    expect(limits[1]).toBeLessThanOrEqual(limits[0] ?? 0)
    // The requeued run in the preemptible partition was cancelled, not left to run as well.
    expect(slurm("scontrol", ["--oneliner", "show", "job", run.slurmJobId])).toMatch(/JobState=CANCELLED/)
    const status = JSON.parse((await runFrugal(["status", "moved", "--json"], { env })).stdout) as {
      attempts: ReadonlyArray<{ runner: string; pool: string | null; purchaseOption: string; outcome: string; costUsd: number; durationSeconds: number }>
    }
    expect(status.attempts.map((a) => [a.runner, a.pool, a.purchaseOption, a.outcome])).toEqual([
      ["slurm", "local/frugal", "spot", "interrupted"],
      ["slurm", "local/frugal-od", "on-demand", "completed"]
    ])
    const [first, second] = status.attempts
    expect(first?.costUsd).toBeCloseTo(((first?.durationSeconds ?? 0) / 3600) * 0.2, 6)
    expect(second?.costUsd).toBeCloseTo(((second?.durationSeconds ?? 0) / 3600) * 0.5, 6)
  }, 300_000)

  it("runs a 2-process job under torchrun as one batch job, requeued mid-run, ending on the uninterrupted 2-process weights", async () => {
    const file = variant("two-proc", (text) => text.replace(/^run:/m, "run:\n  processesPerNode: 2"))
    const reference = await runFrugal(["run", file, "--job-id", "two-proc-reference"], { env: { FRUGAL_HOME: join(home, "local") } })
    expect(reference.code, reference.stderr).toBe(0)
    const run = await runRequeuedOnce([file, "--runner", "slurm"], "two-proc", { ...envFor(), FRUGAL_SLURM_CPUS_PER_TASK: "2" })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\[attempt 1\] started on .*\(pid \d+, cpu, fp32\)/)
    expect(run.stdout).toMatch(/\[attempt 2\] started on .*, resumed from step \d+/)
    expect(weightsHash(run.stdout)).toBe(weightsHash(reference.stdout))
    const script = readFileSync(join(home, "jobs", "two-proc", "slurm", "two-proc-1.sbatch"), "utf8")
    expect(script).toMatch(/'-m' 'frugal_trainer\.torchrun' '--standalone' '--nnodes' '1' '--nproc_per_node' '2' '--no_python'/)
  }, 300_000)
})
