import { acceleratorByName, decodeWorkloadFile, estimatePlacement, type Workload, workloadsOf } from "@frugal/core"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { launchTimeLimitMinutes, SlurmRunner, timeLimitMinutes, workloadTimeLimitMinutes } from "@frugal/runner-slurm"

const workload = (spec: Record<string, unknown>): Workload => {
  const [first] = workloadsOf(Effect.runSync(decodeWorkloadFile(JSON.stringify(spec), "test.json")))
  if (first === undefined) throw new Error("no workload")
  return first
}

const finetune = (constraints: Record<string, unknown>) =>
  workload({
    name: "finetune",
    kind: "training",
    model: { parameters: "7B", precision: "bf16" },
    training: { tokens: "2B", sequenceLength: 4096 },
    resources: { accelerators: ["H100:8"] },
    constraints
  })

const h100 = acceleratorByName("H100")
if (h100 === undefined) throw new Error("H100 missing")

describe("Slurm time limit from the plan's estimate", () => {
  it("adds 25% and 15 minutes to the estimate, caps it by the deadline, and leaves room for the SIGUSR1 warning", () => {
    expect(timeLimitMinutes(10, null, 120)).toBe(765) // 600 min × 1.25 + 15
    expect(timeLimitMinutes(10, 12, 120)).toBe(720) // capped by a 12 h deadline
    expect(timeLimitMinutes(0.5, null, 120)).toBe(53) // 30 × 1.25 + 15 = 52.5, rounded up
    expect(timeLimitMinutes(0.001, null, 3600)).toBe(61) // the warning an hour ahead needs a longer limit
  })

  it("derives the limit from core's estimate for the placement's accelerator and GPU count", () => {
    const job = finetune({ deadlineHours: 48 })
    const hours = estimatePlacement(job, h100, 8).hours
    expect(hours).toBeGreaterThan(0)
    expect(workloadTimeLimitMinutes(job, "H100", 8, 120)).toBe(Math.ceil(hours * 60 * 1.25 + 15))
    // Twice the GPUs, a shorter estimate, a shorter limit.
    const limit16 = workloadTimeLimitMinutes(job, "H100", 16, 120) ?? Infinity
    expect(limit16).toBe(Math.ceil(estimatePlacement(job, h100, 16).hours * 60 * 1.25 + 15))
    expect(limit16).toBeLessThan(workloadTimeLimitMinutes(job, "H100", 8, 120) ?? 0)
    // A deadline shorter than the estimate caps it.
    expect(workloadTimeLimitMinutes(finetune({ deadlineHours: 1 }), "H100", 8, 120)).toBe(60)
  })

  it("has no limit to derive for a CPU job, an unknown accelerator or a service", () => {
    const job = finetune({})
    expect(workloadTimeLimitMinutes(job, null, 0, 120)).toBeNull()
    expect(workloadTimeLimitMinutes(job, "NotAGpu", 8, 120)).toBeNull()
    const service = workload({
      name: "chat",
      kind: "inference",
      model: { parameters: "8B", precision: "bf16" },
      inference: { tokensPerSecond: 100, hoursPerMonth: 730 }
    })
    expect(workloadTimeLimitMinutes(service, "H100", 8, 120)).toBeNull()
  })

  it("writes the job's limit into #SBATCH --time; the engine's FRUGAL_SLURM_TIME_MINUTES wins", () => {
    const request = {
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
    const time = (script: string) => script.split("\n").filter((line) => line.startsWith("#SBATCH --time"))
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, request))).toEqual(["#SBATCH --time=394"])
    expect(time(SlurmRunner.scriptFor({ ...SlurmRunner.defaultSlurmOptions, timeLimitMinutes: 30 }, request))).toEqual(["#SBATCH --time=30"])
    expect(time(SlurmRunner.scriptFor(SlurmRunner.defaultSlurmOptions, { ...request, launch: { ...request.launch, env: {} } }))).toEqual([])
    expect(launchTimeLimitMinutes({ FRUGAL_SLURM_TIME_MINUTES: "0" })).toBeNull()
    expect(launchTimeLimitMinutes({ FRUGAL_SLURM_TIME_MINUTES: "1:30" })).toBeNull()
  })
})
