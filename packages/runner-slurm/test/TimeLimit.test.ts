import { describe, expect, it } from "vitest"
import type { AttemptRequest } from "@frugal/runner"
import { attemptTimeLimitMinutes, launchTimeLimitMinutes, SlurmRunner, timeLimitMinutes } from "@frugal/runner-slurm"

const request: AttemptRequest = {
  jobId: "job-1",
  attemptId: "job-1-1",
  placement: {
    instanceType: "gpu", region: "slurm", availabilityZone: null, purchaseOption: "on-demand" as const, hourlyPriceUsd: 0,
    instanceCount: 1, accelerator: "H100", acceleratorsPerInstance: 8, interruptionsPerHour: 0
  },
  launch: { argv: ["python3"] as const, env: { FRUGAL_SLURM_TIME_MINUTES: "394" }, workdir: "/shared/work", checkpointDir: "/shared/ckpt" },
  checkpointEverySeconds: null,
  logPath: "/dev/null"
}

describe("Slurm time limit from the plan's estimate, per attempt", () => {
  it("adds 25% and 15 minutes to the estimate, caps it by the deadline, and leaves room for the SIGUSR1 warning", () => {
    expect(timeLimitMinutes(10, null, 120)).toBe(765) // 600 min × 1.25 + 15
    expect(timeLimitMinutes(10, 12, 120)).toBe(720) // capped by a 12 h deadline
    expect(timeLimitMinutes(0.5, null, 120)).toBe(53) // 30 × 1.25 + 15 = 52.5, rounded up
    expect(timeLimitMinutes(0.001, null, 3600)).toBe(61) // the warning an hour ahead needs a longer limit
  })

  it("derives each attempt's limit from the work left at its placement, capped by the hours left to the deadline", () => {
    const gpu = { ...request, launch: { ...request.launch, env: {} } }
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: 10, deadlineHours: null } }, 120)).toBe(765)
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: 10, deadlineHours: 12 } }, 120)).toBe(720)
    // After a failover half-way through, only the half left: 300 min × 1.25 + 15.
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: 5, deadlineHours: 40 } }, 120)).toBe(390)
    // Seconds of work, which the plan rounds to 0 h: the fixed 15 minutes.
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: 0, deadlineHours: null } }, 120)).toBe(15)
  })

  it("has no limit to derive for a job without a plan, a CPU placement or hours that are not finite", () => {
    const gpu = { ...request, launch: { ...request.launch, env: {} } }
    expect(attemptTimeLimitMinutes(gpu, 120)).toBeNull()
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: Infinity, deadlineHours: null } }, 120)).toBeNull()
    expect(attemptTimeLimitMinutes({ ...gpu, horizon: { workHours: -1, deadlineHours: null } }, 120)).toBeNull()
    expect(attemptTimeLimitMinutes({
      ...gpu,
      placement: { ...gpu.placement, accelerator: null, acceleratorsPerInstance: 0 },
      horizon: { workHours: 2, deadlineHours: null }
    }, 120)).toBeNull()
  })

  it("writes the limit into #SBATCH --time: the engine's FRUGAL_SLURM_TIME_MINUTES wins, then the workload's run.env, then the attempt's own", () => {
    const time = (script: string) => script.split("\n").filter((line) => line.startsWith("#SBATCH --time"))
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, request))).toEqual(["#SBATCH --time=394"])
    expect(time(SlurmRunner.scriptFor({ ...SlurmRunner.defaultSlurmOptions, timeLimitMinutes: 30 }, request))).toEqual(["#SBATCH --time=30"])
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, { ...request, launch: { ...request.launch, env: {} } }))).toEqual([])
    const horizon = { workHours: 10, deadlineHours: null }
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, { ...request, horizon }))).toEqual(["#SBATCH --time=394"])
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, { ...request, launch: { ...request.launch, env: {} }, horizon }))).toEqual(["#SBATCH --time=765"])
    expect(launchTimeLimitMinutes({ FRUGAL_SLURM_TIME_MINUTES: "0" })).toBeNull()
    expect(launchTimeLimitMinutes({ FRUGAL_SLURM_TIME_MINUTES: "1:30" })).toBeNull()
  })
})
