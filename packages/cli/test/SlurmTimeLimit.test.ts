/**
 * `frugal run --runner slurm` asks Slurm for a time limit derived from the workload's estimate (the plan's hours on
 * the engine's placement, re-estimated with core's `estimatePlacement` where FRUGAL_SLURM_NODES changes the shape,
 * plus the margin of packages/runner-slurm/src/TimeLimit.ts), shown by `--dry-run` as the batch script's
 * `#SBATCH --time`. Needs no Slurm: the dry run only writes the script.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { acceleratorByName, decodeWorkloadFile, estimatePlacement, workloadsOf } from "@frugal/core"
import { example, runFrugal } from "../../../test/support/frugalCli.ts"

const home = mkdtempSync(join(tmpdir(), "frugal-slurm-time-"))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const env = (extra: Record<string, string> = {}) => ({ FRUGAL_HOME: home, FRUGAL_SLURM_PARTITION: "gpu", FRUGAL_SLURM_TIME_MINUTES: "", ...extra })
const timeLines = (stdout: string) => stdout.split("\n").filter((line) => line.startsWith("#SBATCH --time"))

describe.concurrent("frugal run --runner slurm --dry-run: the time limit", () => {
  it("comes from the estimate on 2 nodes × 8 H100, with 25% and 15 minutes of margin, within the 48 h deadline", async () => {
    const file = example("cluster/h100-2node.yaml")
    const [workload] = workloadsOf(Effect.runSync(decodeWorkloadFile(readFileSync(file, "utf8"), file)))
    const h100 = acceleratorByName("H100")
    if (workload === undefined || h100 === undefined) throw new Error("fixture")
    const expected = Math.min(Math.ceil(estimatePlacement(workload, h100, 16).hours * 60 * 1.25 + 15), 48 * 60)

    const run = await runFrugal(["run", file, "--runner", "slurm", "--dry-run"], { env: env({ FRUGAL_SLURM_NODES: "2" }) })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("#SBATCH --gpus-per-node=8")
    expect(timeLines(run.stdout)).toEqual([`#SBATCH --time=${expected}`])
    // Derived for each attempt from the work left at its placement, not fixed in the job's launch environment.
    expect(run.stdout).not.toContain("FRUGAL_SLURM_TIME_MINUTES")

    // Without FRUGAL_SLURM_NODES the plan's shape for H100:16 holds: two nodes of 8, as on every engine.
    const planned = await runFrugal(["run", file, "--runner", "slurm", "--dry-run"], { env: env() })
    expect(planned.stdout).toContain("#SBATCH --nodes=2")
    expect(timeLines(planned.stdout)).toEqual([`#SBATCH --time=${expected}`])

    // One node of 8 GPUs takes longer, so its limit is longer.
    const oneNode = await runFrugal(["run", file, "--runner", "slurm", "--dry-run"], { env: env({ FRUGAL_SLURM_NODES: "1" }) })
    const [line] = timeLines(oneNode.stdout)
    expect(Number(line?.split("=")[1])).toBe(Math.min(Math.ceil(estimatePlacement(workload, h100, 8).hours * 60 * 1.25 + 15), 48 * 60))
  })

  it("FRUGAL_SLURM_TIME_MINUTES still overrides it", async () => {
    const run = await runFrugal(["run", example("cluster/h100-2node.yaml"), "--runner", "slurm", "--dry-run"], {
      env: env({ FRUGAL_SLURM_TIME_MINUTES: "30" })
    })
    expect(run.code).toBe(0)
    expect(timeLines(run.stdout)).toEqual(["#SBATCH --time=30"])
  })

  it("a CPU job (FRUGAL_SLURM_GPUS_PER_NODE=0) with no accelerator to estimate on keeps the partition's default", async () => {
    const run = await runFrugal(["run", example("cluster/slurm-cpu.yaml"), "--runner", "slurm", "--dry-run"], {
      env: env({ FRUGAL_SLURM_GPUS_PER_NODE: "0" })
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("#SBATCH --partition=gpu")
    expect(timeLines(run.stdout)).toEqual([])
  })
})
