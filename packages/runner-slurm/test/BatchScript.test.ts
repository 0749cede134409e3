import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { type BatchScriptInput, batchScript, directiveProblems, invalidEnvironmentNames, parseSbatchOutput, parseScontrolJob, sbatchArguments, shellQuote } from "@frugal/runner-slurm"

const base: BatchScriptInput = {
  jobName: "frugal-job-1",
  partition: "gpu",
  account: null,
  qos: null,
  nodes: 1,
  gpusPerNode: 8,
  cpusPerTask: 16,
  timeLimitMinutes: 90.5,
  signalSeconds: 120,
  outputDirectory: "/shared/frugal/job-1",
  workdir: "/shared/work",
  argv: ["python3", "-m", "frugal_trainer", "--tag", "a; rm -rf $(pwd) | echo `id` 'q'"],
  env: { FRUGAL_CHECKPOINT_DIR: "/shared/ckpt", ODD: "it's $HOME" },
  rendezvousPort: 29500,
  processesPerNode: 8,
  torchrunProgram: null,
  extraOptions: ["--constraint=h100"]
}

const sbatchLines = (script: string) => script.split("\n").filter((line) => line.startsWith("#SBATCH "))

describe("batch script", () => {
  it("asks for the partition, GPUs per node, nodes, time limit, requeue and a SIGUSR1 warning", () => {
    expect(sbatchLines(batchScript(base))).toEqual([
      "#SBATCH --job-name=frugal-job-1",
      "#SBATCH --partition=gpu",
      "#SBATCH --nodes=1",
      "#SBATCH --ntasks-per-node=1",
      "#SBATCH --gpus-per-node=8",
      "#SBATCH --cpus-per-task=16",
      "#SBATCH --time=91",
      "#SBATCH --requeue",
      "#SBATCH --signal=B:USR1@120",
      "#SBATCH --open-mode=append",
      "#SBATCH --constraint=h100"
    ])
  })

  it("passes shell metacharacters in arguments and environment values through as plain text", () => {
    // bash itself parses the quoted words back: what the command would receive.
    const words = execFileSync("bash", ["-c", `printf '%s\\n' ${base.argv.map(shellQuote).join(" ")}`], { encoding: "utf8" })
    expect(words.trimEnd().split("\n")).toEqual(base.argv)
    expect(batchScript(base)).toContain(`export ODD='it'\\''s $HOME'`)
    expect(execFileSync("bash", ["-n"], { input: batchScript(base) }).toString()).toBe("")
  })

  it("launches one torchrun per node through srun with a c10d rendezvous on the first node", () => {
    const script = batchScript({ ...base, nodes: 2 })
    expect(sbatchLines(script)).toContain("#SBATCH --nodes=2")
    expect(script).toContain(`head_node="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"`)
    const launch = script.split("\n").find((line) => line.startsWith("srun "))
    expect(launch).toBe(
      `srun --nodes="$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 --kill-on-bad-exit=1 torchrun --nnodes="$SLURM_JOB_NUM_NODES" ` +
        `--nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint="$head_node:29500" --rdzv_id="$SLURM_JOB_ID" --no_python ` +
        `${base.argv.map(shellQuote).join(" ")} >"$base.out" 2>"$base.err" </dev/null &`
    )
  })

  it("leaves out GPUs for a CPU job and the time limit when none is set", () => {
    const lines = sbatchLines(batchScript({ ...base, gpusPerNode: 0, timeLimitMinutes: null, partition: null }))
    expect(lines.some((line) => /gpus|--time|--partition/.test(line))).toBe(false)
  })

  it("refuses environment names a shell cannot export", () => {
    expect(invalidEnvironmentNames({ GOOD_1: "x", "BAD-NAME": "y", "1X": "z" })).toEqual(["BAD-NAME", "1X"])
  })
})

describe("paths and processes", () => {
  it("passes the output file and working directory to sbatch as arguments, never as directive text", () => {
    const odd = { ...base, outputDirectory: "/shared/a b #SBATCH --x", workdir: "/shared/$(touch x)" }
    expect(sbatchArguments(odd)).toEqual(["--output=/shared/a b #SBATCH --x/slurm-%j.log", "--chdir=/shared/$(touch x)"])
    expect(sbatchLines(batchScript(odd)).some((line) => line.includes("touch") || line.includes("--x"))).toBe(false)
    expect(directiveProblems(odd)).toEqual([])
    // A line break in a path is refused before any script is written.
    expect(directiveProblems({ ...base, workdir: "/shared/a\n#SBATCH --x" })).toEqual(["working directory \"/shared/a\\n#SBATCH --x\" (no control characters)"])
  })

  it("runs one process per GPU on a single node under torchrun with a standalone rendezvous", () => {
    const launch = batchScript(base).split("\n").find((line) => line.includes("frugal_trainer")) ?? ""
    expect(launch.startsWith("'torchrun' '--standalone' '--nnodes' '1' '--nproc_per_node' '8' '--no_python' 'python3' '-m' 'frugal_trainer'")).toBe(true)
    const single = batchScript({ ...base, processesPerNode: 1 }).split("\n").find((line) => line.includes("frugal_trainer")) ?? ""
    expect(single.startsWith("'python3' '-m' 'frugal_trainer'")).toBe(true)
    const fixed = batchScript({ ...base, torchrunProgram: ["/usr/bin/python3", "-m", "frugal_trainer.torchrun"] }).split("\n").find((line) => line.includes("--standalone")) ?? ""
    expect(fixed.startsWith("'/usr/bin/python3' '-m' 'frugal_trainer.torchrun' '--standalone'")).toBe(true)
  })
})

describe("Slurm command output", () => {
  it("reads state, restart count and exit code from scontrol --oneliner", () => {
    const line = "JobId=42 JobName=frugal-x UserId=root(0) JobState=PENDING Reason=BeginTime Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 ExitCode=0:15 Command=/a b/c.sh"
    expect(parseScontrolJob(line)).toEqual({ jobId: "42", state: "PENDING", restarts: 1, exitCode: 0, exitSignal: 15, reason: "BeginTime", partition: null })
    expect(parseScontrolJob(`${line} Partition=gpu`)?.partition).toBe("gpu")
    expect(parseScontrolJob("slurm_load_jobs error: Invalid job id specified")).toBeNull()
  })

  it("reads the job id from sbatch --parsable with or without a cluster name", () => {
    expect(parseSbatchOutput("17\n")).toBe("17")
    expect(parseSbatchOutput("17;cluster\n")).toBe("17")
    expect(parseSbatchOutput("sbatch: error")).toBeNull()
  })
})
