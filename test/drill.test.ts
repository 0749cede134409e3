/**
 * The pre-emption drill end to end: the real `frugal drill` process, the real reference trainer on CPU
 * PyTorch, real signals. An uninterrupted run and a run interrupted five times must end with bitwise
 * identical weights; with --hard-kill each attempt resumes from the last checkpoint and loses at most
 * one checkpoint interval. A job of two processes under torchrun is drilled the same way.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { example, runFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-drill-e2e-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SHA256 = /^[0-9a-f]{64}$/

interface DrillJson {
  readonly identical: boolean
  readonly referenceHash: string
  readonly finalHash: string
  readonly interruptions: ReadonlyArray<{ readonly atStep: number; readonly resumedFromStep: number; readonly lostSteps: number }>
  readonly checkpointOverheadPct: number
}

const parseDrill = (stdout: string): DrillJson => {
  const parsed: DrillJson = JSON.parse(stdout)
  return parsed
}

describe("frugal drill", () => {
  it("5 SIGTERM interruptions of the tiny reference GPT end bitwise identical, and the hash is printed", async () => {
    const result = await runFrugal(["drill", example("run/tiny-train.yaml"), "--interruptions", "5", "--seed", "3"])
    expect(result.code, result.stderr).toBe(0)
    const hashes = [...result.stdout.matchAll(/hash:\s+([0-9a-f]{64})/g)].map((m) => m[1])
    expect(hashes).toHaveLength(2)
    expect(hashes[0]).toBe(hashes[1])
    expect(result.stdout).toContain("IDENTICAL: 5 SIGTERM interruption(s)")
  }, 240_000)

  it("--hard-kill resumes each attempt from its last checkpoint, loses at most one interval, still identical", async () => {
    // Any command that speaks the protocol can be drilled; this one is the reference trainer with
    // synchronous checkpoints every 5 steps, so "one interval" is exactly 5 steps.
    // `run --dry-run --json` prints the launch of the reference trainer: the Python that has torch, and PYTHONPATH.
    const dryRun = await runFrugal(["run", example("run/tiny-train.yaml"), "--dry-run", "--json"], { env: { FRUGAL_HOME: dir } })
    expect(dryRun.code, dryRun.stderr).toBe(0)
    const launch: { readonly launch: { readonly argv: ReadonlyArray<string>; readonly env: Record<string, string> } } =
      JSON.parse(dryRun.stdout).job
    const [python, module, trainer] = launch.launch.argv
    expect([module, trainer]).toEqual(["-m", "frugal_trainer"])
    const workload = join(dir, "hard-kill.yaml")
    writeFileSync(workload, JSON.stringify({
      name: "hard-kill",
      kind: "training",
      model: { parameters: "120K", precision: "fp32" },
      training: { tokens: 5120 },
      run: {
        command: [
          python, "-m", "frugal_trainer", "--max-steps", "40", "--precision", "fp32",
          "--checkpoint-every-steps", "5", "--no-async-checkpoints"
        ],
        env: { PYTHONPATH: launch.launch.env["PYTHONPATH"] }
      }
    }))
    const result = await runFrugal(["drill", workload, "--interruptions", "3", "--seed", "11", "--hard-kill", "--json"])
    expect(result.code, result.stderr).toBe(0)
    const report = parseDrill(result.stdout)
    expect(Object.keys(report)).toEqual(["identical", "referenceHash", "finalHash", "interruptions", "checkpointOverheadPct"])
    expect(report.identical).toBe(true)
    expect(report.referenceHash).toMatch(SHA256)
    expect(report.finalHash).toBe(report.referenceHash)
    expect(report.interruptions).toHaveLength(3)
    for (const interruption of report.interruptions) {
      expect(interruption.resumedFromStep % 5).toBe(0)
      expect(interruption.lostSteps).toBe(interruption.atStep - interruption.resumedFromStep)
      expect(interruption.lostSteps).toBeLessThanOrEqual(5)
    }
    expect(report.checkpointOverheadPct).toBeGreaterThan(0)
  }, 240_000)

  it("drills a job of two processes under torchrun: every rank stops at one checkpoint, and the weights end identical", async () => {
    const result = await runFrugal(["drill", example("run/tiny-train-2p.yaml"), "--interruptions", "2", "--seed", "5", "--json"])
    expect(result.code, result.stderr).toBe(0)
    const report = parseDrill(result.stdout)
    expect(report.identical).toBe(true)
    expect(report.finalHash).toBe(report.referenceHash)
    expect(report.interruptions).toHaveLength(2)
    // SIGTERM reaches both ranks through torchrun's process group; they finish the step, checkpoint it together
    // and the next attempt resumes exactly there.
    for (const interruption of report.interruptions) {
      expect(interruption.resumedFromStep).toBe(interruption.atStep)
      expect(interruption.lostSteps).toBe(0)
    }
  }, 240_000)

  it("drills examples/ddp: a DDP script of the user's own on two processes, launched as its workload says", async () => {
    // The workload's python3 must have PyTorch; here that is the Python the reference trainer runs on.
    const dryRun = await runFrugal(["run", example("run/tiny-train.yaml"), "--dry-run", "--json"], { env: { FRUGAL_HOME: dir } })
    const python: string = JSON.parse(dryRun.stdout).job.launch.argv[0]
    const spec = readFileSync(example("ddp/workload.yaml"), "utf8")
      .replace("command: [python3, train.py,", `command: [${JSON.stringify(python)}, ${JSON.stringify(example("ddp/train.py"))},`)
      .replace("workdir: .", `workdir: ${JSON.stringify(dir)}`)
    const workload = join(dir, "ddp-example.yaml")
    writeFileSync(workload, spec)
    const result = await runFrugal(["drill", workload, "--interruptions", "1", "--seed", "2", "--json"])
    expect(result.code, result.stderr).toBe(0)
    const report = parseDrill(result.stdout)
    expect(report.identical).toBe(true)
    expect(report.interruptions).toHaveLength(1)
    expect(report.interruptions[0]?.lostSteps).toBe(0)
  }, 240_000)

  it("drills a user's own script that speaks the protocol, whose shell metacharacters arrive as plain arguments", async () => {
    const env = { FRUGAL_HOME: join(dir, "home") }
    const drilled = await runFrugal(["drill", example("run/user-script/workload.yaml"), "--hard-kill", "--json"], { env })
    expect(drilled.code, drilled.stderr).toBe(0)
    const report = parseDrill(drilled.stdout)
    expect(report.identical).toBe(true)
    expect(report.interruptions).toHaveLength(5)
    for (const interruption of report.interruptions) expect(interruption.lostSteps).toBeLessThanOrEqual(20)

    const ran = await runFrugal(["run", example("run/user-script/workload.yaml"), "--job-id", "user-script"], { env })
    expect(ran.code, ran.stderr).toBe(0)
    const logs = await runFrugal(["logs", "user-script"], { env })
    expect(logs.code, logs.stderr).toBe(0)
    // Through a shell, `$(pwd)` would have been expanded and `;` and `|` would have split the command.
    expect(logs.stdout).toContain("tag: a; rm -rf $(pwd) | echo")
  }, 120_000)
})
