/**
 * The plan feeds the runner and the runner feeds the plan, through the real CLI:
 * - `frugal run --policy frugal` on a workload with a deadline starts on the plan's spot option; a SIGTERM
 *   to the trainer (a spot reclaim) makes the policy pick the next attempt, here on-demand (the plan's
 *   on-demand placement of the same type) because the deadline leaves no time to wait for spot; `frugal status --json` lists both
 *   attempts, each charged at its own placement's price;
 * - a ledger holding a measured MFU for an accelerator changes `frugal plan --json`'s hours on it and says
 *   so; `--no-calibration` gives the defaults back; without a ledger, `plan` creates none.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, describe, expect, it } from "vitest"
import { example, frugalBin, repoRoot, runFrugal } from "./support/frugalCli.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-run-policy-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

/** The tiny CPU trainer with a 24-minute deadline: the plan picks spot, but after a reclaim there is no time to wait for spot (one 15-minute check plus a 10-minute restart). */
const workloadFile = join(home, "tiny-deadline.yaml")
writeFileSync(
  workloadFile,
  readFileSync(example("run/tiny-train.yaml"), "utf8").replace(/^run:/m, "constraints:\n  deadlineHours: 0.4\nrun:")
)

interface PlanOption {
  readonly instanceType: string
  readonly instanceCount: number
  readonly region: string
  readonly availabilityZone: string | null
  readonly purchaseOption: string
  readonly hourlyPriceUsd: number
}
interface StatusJson {
  readonly job: { readonly status: string; readonly costUsd: number; readonly finalStep: number | null }
  readonly attempts: ReadonlyArray<{
    readonly exitReason: string | null
    readonly costUsd: number
    readonly durationSeconds: number
    readonly placement: {
      readonly instanceType: string
      readonly region: string
      readonly availabilityZone: string | null
      readonly purchaseOption: string
      readonly hourlyPriceUsd: number
    }
  }>
}

/** `frugal run`, with the trainer sent SIGTERM (by pid, as a spot reclaim would) after its first checkpoint. */
const runInterruptedOnce = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [frugalBin, "run", ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let signalled = false
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      const pid = /\[attempt 1\] started on .*\(pid (\d+)/.exec(stdout)?.[1]
      if (!signalled && pid !== undefined && /\[attempt 1\] checkpoint at step \d+/.test(stdout)) {
        signalled = true
        process.kill(Number(pid), "SIGTERM")
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

describe("frugal run --policy", () => {
  it("starts on the plan's spot option and relaunches where the policy says, charging each attempt at its price", async () => {
    const env = { FRUGAL_HOME: join(home, "run") }
    const planned = await runFrugal(["plan", workloadFile, "--json", "--top", "1"], { env })
    expect(planned.code, planned.stderr).toBe(0)
    const spot: PlanOption = JSON.parse(planned.stdout).options[0]
    expect(spot.purchaseOption).toBe("spot")

    // The job's ranked placements, as the dry run shows them: the plan's spot option first, and the same type on
    // demand further down, where the policy falls back to.
    const dry = await runFrugal(["run", workloadFile, "--policy", "frugal", "--dry-run", "--json"], { env })
    expect(dry.code, dry.stderr).toBe(0)
    const placements: ReadonlyArray<PlanOption & { readonly runner: string }> = JSON.parse(dry.stdout).placements
    expect(placements[0]).toMatchObject({ runner: "local", instanceType: spot.instanceType, availabilityZone: spot.availabilityZone, purchaseOption: "spot" })
    const onDemand = placements.find((p) => p.instanceType === spot.instanceType && p.instanceCount === spot.instanceCount && p.purchaseOption === "on-demand")
    expect(onDemand).toBeDefined()
    if (onDemand === undefined) return

    const run = await runInterruptedOnce([workloadFile, "--job-id", "policy-job", "--policy", "frugal"], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain("policy frugal picks each relaunch to meet the 0.4 h deadline")
    expect(run.stdout).toContain("[attempt 1] interrupted by SIGTERM")
    expect(run.stdout).toMatch(/\[next\] \S+ on-demand in \S+ at \$[0-9.]+\/h: policy frugal: on-demand/)
    expect(run.stdout).toContain("job policy-job: completed")

    const status = await runFrugal(["status", "policy-job", "--json"], { env })
    expect(status.code, status.stderr).toBe(0)
    const report: StatusJson = JSON.parse(status.stdout)
    expect(report.job.status).toBe("completed")
    expect(report.job.finalStep).toBe(40)
    expect(report.attempts.map((a) => [a.exitReason, a.placement.purchaseOption])).toEqual([
      ["interrupted", "spot"],
      ["completed", "on-demand"]
    ])
    const [first, second] = report.attempts
    if (first === undefined || second === undefined) return
    expect(first.placement).toMatchObject({
      instanceType: spot.instanceType,
      region: spot.region,
      availabilityZone: spot.availabilityZone,
      hourlyPriceUsd: spot.hourlyPriceUsd
    })
    expect(second.placement).toMatchObject({
      instanceType: spot.instanceType,
      region: onDemand.region,
      purchaseOption: "on-demand",
      hourlyPriceUsd: onDemand.hourlyPriceUsd
    })
    expect(onDemand.hourlyPriceUsd).toBeGreaterThan(spot.hourlyPriceUsd)
    for (const attempt of report.attempts) {
      // Charged for the time held at the placement's price.
      expect(attempt.costUsd).toBeCloseTo((attempt.durationSeconds / 3600) * attempt.placement.hourlyPriceUsd, 4)
      expect(attempt.costUsd).toBeGreaterThan(0)
    }
    expect(report.job.costUsd).toBeCloseTo(first.costUsd + second.costUsd, 8)
    // Kept in the ledger with the job, so `frugal run --resume policy-job` keeps placing relaunches with the policy.
    const db = new DatabaseSync(join(home, "run", "ledger.sqlite"), { readOnly: true })
    const row = db.prepare("SELECT policy_json FROM jobs WHERE id = 'policy-job'").get()
    db.close()
    expect(JSON.parse(String(row?.["policy_json"])).policy).toBe("frugal")
  }, 120_000)

  it("refuses --price-per-hour together with a policy, naming the flag (exit 2)", async () => {
    const result = await runFrugal(["run", workloadFile, "--policy", "greedy", "--price-per-hour", "1"], {
      env: { FRUGAL_HOME: join(home, "refuse") }
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--price-per-hour")
  })
})

describe("calibration from the ledger", () => {
  const example7b = example("llama-7b-finetune.yaml")
  const b200Hours = (stdout: string): number => JSON.parse(stdout).requirements.byAccelerator.B200.hours

  it("plans with core's default MFU and creates no ledger when there is none", async () => {
    const env = { FRUGAL_HOME: join(home, "no-ledger") }
    const result = await runFrugal(["plan", example7b, "--top", "1"], { env })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain("default MFU")
    expect(existsSync(join(home, "no-ledger", "ledger.sqlite"))).toBe(false)
  })

  it("a measured MFU changes the plan's hours on that accelerator and says so; --no-calibration restores the default", async () => {
    const env = { FRUGAL_HOME: join(home, "calibrated") }
    const before = await runFrugal(["plan", example7b, "--json", "--top", "1"], { env })
    expect(before.code, before.stderr).toBe(0)
    // `frugal status` opens (and so creates) the ledger with its schema; a completed run on a B200 is then filed.
    expect((await runFrugal(["status"], { env })).code).toBe(0)
    const db = new DatabaseSync(join(home, "calibrated", "ledger.sqlite"))
    db.prepare("INSERT INTO jobs (id, name, status, runner, spec_json, created_ms, updated_ms) VALUES (?, ?, 'completed', 'local', '{}', 0, 0)")
      .run("measured", "measured")
    db.prepare(
      "INSERT INTO calibration (job_id, accelerator, precision, tokens_per_second_per_gpu, mfu, steps, measured_ms) VALUES (?, 'B200', 'bf16', 9000, 0.6, 100, 1)"
    ).run("measured")
    db.close()

    const after = await runFrugal(["plan", example7b, "--json", "--top", "1"], { env })
    expect(after.code, after.stderr).toBe(0)
    const defaultHours = b200Hours(before.stdout)
    const calibrated = JSON.parse(after.stdout)
    expect(calibrated.calibration).toEqual([{ accelerator: "B200", precision: "bf16", mfu: 0.6, runs: 1 }])
    // Time scales with default MFU ÷ measured MFU; the default for B200 bf16 is 40%.
    expect(b200Hours(after.stdout)).toBeCloseTo((defaultHours * 0.4) / 0.6, 1)
    // Other accelerators keep their default estimate.
    expect(calibrated.requirements.byAccelerator.H100.hours).toBe(JSON.parse(before.stdout).requirements.byAccelerator.H100.hours)

    const text = await runFrugal(["plan", example7b, "--top", "1"], { env })
    expect(text.stdout).toContain("MFU 60% measured on B200 bf16 over 1 run")

    const off = await runFrugal(["plan", example7b, "--json", "--top", "1", "--no-calibration"], { env })
    expect(off.code, off.stderr).toBe(0)
    expect(b200Hours(off.stdout)).toBe(defaultHours)
    expect(JSON.parse(off.stdout).calibration).toBeUndefined()

    const estimate = await runFrugal(["estimate", example7b, "--json"], { env })
    expect(estimate.code, estimate.stderr).toBe(0)
    expect(JSON.parse(estimate.stdout).compute.byAccelerator.B200.mfu).toBe(0.6)
  }, 120_000)
})
