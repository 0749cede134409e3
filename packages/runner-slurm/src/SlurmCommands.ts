/**
 * The Slurm client commands the runner uses (`sbatch`, `scontrol`, `squeue`, `scancel`), each started from an
 * argv with no shell. They find the cluster the way a user's shell does: `SLURM_CONF`, or the default
 * `/etc/slurm/slurm.conf`.
 */
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { RunnerError } from "@frugal/runner"
import { parseScontrolJob, parseScontrolPartitionState, parseSbatchOutput, type SlurmJobState } from "./SlurmJob.ts"

export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs one command; a missing program is a RunnerError naming it, a non-zero exit is returned as data. */
export const runCommand = (
  argv: readonly [string, ...Array<string>],
  env: NodeJS.ProcessEnv
): Effect.Effect<CommandResult, RunnerError> =>
  Effect.callback<CommandResult, RunnerError>((resume) => {
    const [program, ...args] = argv
    execFile(program, args, { env, encoding: "utf8", timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code === "string") {
        resume(Effect.fail(
          new RunnerError({
            runner: "slurm",
            operation: program,
            detail: error.code === "ENOENT"
              ? `${program} not found on PATH: install the Slurm client commands (Debian: slurm-client) on this machine`
              : error.message
          })
        ))
        return
      }
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
  })

const failed = (operation: string, result: CommandResult, attemptId?: string) =>
  new RunnerError({
    runner: "slurm",
    operation,
    ...(attemptId === undefined ? {} : { attemptId }),
    detail: `exit ${result.code}: ${(result.stderr || result.stdout).trim()}`
  })

/** sbatch refused the job; `stderr` says why (a node configuration the cluster cannot satisfy, a bad option). */
export interface SbatchRefusal {
  readonly _tag: "SbatchRefusal"
  readonly stderr: string
}

export interface SlurmCommands {
  /**
   * Submits the script with `arguments` before it on the command line (paths travel as argv, never as `#SBATCH`
   * text); the Slurm job id, or sbatch's refusal.
   */
  readonly sbatch: (
    scriptPath: string,
    attemptId: string,
    args?: ReadonlyArray<string>
  ) => Effect.Effect<string | SbatchRefusal, RunnerError>
  /** A partition's state (UP, DOWN, DRAIN, INACTIVE); null when Slurm does not know it. */
  readonly partitionState: (partition: string) => Effect.Effect<string | null, RunnerError>
  /** The job's state; null when Slurm no longer knows it (purged after MinJobAge, or never existed). */
  readonly show: (slurmJobId: string) => Effect.Effect<SlurmJobState | null, RunnerError>
  /** Ids of this user's jobs with this name that Slurm still knows (pending, running or recently ended). */
  readonly findByName: (jobName: string) => Effect.Effect<ReadonlyArray<string>, RunnerError>
  /**
   * `scontrol hold`: a pending job stays queued but does not start until released. False when Slurm refuses
   * (the job is no longer pending: it started again, or ended).
   */
  readonly hold: (slurmJobId: string) => Effect.Effect<boolean, RunnerError>
  /** `scontrol release` of a held job; releasing one that is not held is not an error. */
  readonly release: (slurmJobId: string) => Effect.Effect<void, RunnerError>
  /** `scancel`; `signal` sends that signal instead of ending the job, `batchOnly` to the batch shell alone. */
  readonly scancel: (
    slurmJobId: string,
    options?: { readonly signal?: "TERM" | "KILL" | "USR1"; readonly batchOnly?: boolean }
  ) => Effect.Effect<void, RunnerError>
}

export const makeSlurmCommands = (env: NodeJS.ProcessEnv): SlurmCommands => ({
  sbatch: (scriptPath, attemptId, args = []) =>
    Effect.flatMap(runCommand(["sbatch", "--parsable", ...args, scriptPath], env), (result): Effect.Effect<string | SbatchRefusal, RunnerError> => {
      const id = result.code === 0 ? parseSbatchOutput(result.stdout) : null
      if (id !== null) return Effect.succeed(id)
      return result.code !== 0 && result.stderr.trim() !== ""
        ? Effect.succeed({ _tag: "SbatchRefusal" as const, stderr: result.stderr.trim() })
        : Effect.fail(failed("sbatch", result, attemptId))
    }),
  partitionState: (partition) =>
    Effect.flatMap(runCommand(["scontrol", "--oneliner", "show", "partition", partition], env), (result) =>
      result.code !== 0
        ? /not found|invalid partition/i.test(result.stderr) ? Effect.succeed(null) : Effect.fail(failed("scontrol show partition", result))
        : Effect.succeed(parseScontrolPartitionState(result.stdout))),
  show: (slurmJobId) =>
    Effect.flatMap(runCommand(["scontrol", "--oneliner", "show", "job", slurmJobId], env), (result) => {
      if (result.code !== 0) {
        return /invalid job id/i.test(result.stderr) ? Effect.succeed(null) : Effect.fail(failed("scontrol show job", result))
      }
      return Effect.succeed(parseScontrolJob(result.stdout.split("\n")[0] ?? ""))
    }),
  findByName: (jobName) =>
    Effect.flatMap(
      runCommand(["squeue", "--noheader", "--states=all", `--name=${jobName}`, "--format=%i"], env),
      (result) =>
        result.code === 0
          ? Effect.succeed(result.stdout.split("\n").map((line) => line.trim()).filter((line) => /^\d+$/.test(line)))
          : Effect.fail(failed("squeue", result))
    ),
  hold: (slurmJobId) =>
    Effect.flatMap(runCommand(["scontrol", "hold", slurmJobId], env), (result) =>
      result.code === 0
        ? Effect.succeed(true)
        : /no longer pending|already completed|invalid job id|job is not active/i.test(result.stderr)
        ? Effect.succeed(false)
        : Effect.fail(failed("scontrol hold", result))),
  release: (slurmJobId) =>
    Effect.flatMap(runCommand(["scontrol", "release", slurmJobId], env), (result) =>
      result.code === 0 || /not held|no longer pending|already completed|invalid job id/i.test(result.stderr)
        ? Effect.void
        : Effect.fail(failed("scontrol release", result))),
  scancel: (slurmJobId, options = {}) =>
    Effect.flatMap(
      runCommand([
        "scancel",
        ...(options.signal === undefined ? [] : [`--signal=${options.signal}`]),
        ...(options.batchOnly === true ? ["--batch"] : options.signal === undefined ? [] : ["--full"]),
        slurmJobId
      ], env),
      // scancel of a job that already ended is not an error worth failing a cleanup for.
      (result) =>
        result.code === 0 || /already completed|invalid job id|job is not active/i.test(result.stderr)
          ? Effect.void
          : Effect.fail(failed("scancel", result))
    )
})
