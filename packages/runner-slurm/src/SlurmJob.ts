/**
 * What the runner reads about a Slurm job: `scontrol show job -o ID` (one line of `Key=Value` pairs) parsed
 * into the few fields it needs. Pure: text in, data out.
 */

export interface SlurmJobState {
  readonly jobId: string
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, REQUEUED… */
  readonly state: string
  /** How many times Slurm restarted (requeued) the job: the script's `SLURM_RESTART_COUNT`. */
  readonly restarts: number
  /** `ExitCode=code:signal` of the batch script. */
  readonly exitCode: number | null
  readonly exitSignal: number | null
  readonly reason: string | null
  /** The partition the job is (or was) in. */
  readonly partition: string | null
}

/** States after which Slurm will not run the job again by itself. */
const TERMINAL = new Set([
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "BOOT_FAIL",
  "DEADLINE",
  "SPECIAL_EXIT",
  "REVOKED"
])

export const isTerminal = (state: SlurmJobState): boolean => TERMINAL.has(state.state)

const field = (line: string, key: string): string | null => {
  const match = new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)
  return match?.[1] ?? null
}

/** Parses one line of `scontrol show job -o`; null when it does not describe a job. */
export const parseScontrolJob = (line: string): SlurmJobState | null => {
  const jobId = field(line, "JobId")
  const state = field(line, "JobState")
  if (jobId === null || state === null) return null
  const restarts = Number(field(line, "Restarts") ?? "0")
  const exit = /^(\d+):(\d+)$/.exec(field(line, "ExitCode") ?? "")
  const reason = field(line, "Reason")
  const partition = field(line, "Partition")
  return {
    jobId,
    state,
    restarts: Number.isInteger(restarts) ? restarts : 0,
    exitCode: exit === null ? null : Number(exit[1]),
    exitSignal: exit === null ? null : Number(exit[2]),
    reason: reason === null || reason === "None" ? null : reason,
    partition: partition === null || partition === "" ? null : partition
  }
}

/** `sbatch --parsable` prints `ID` or `ID;cluster`. */
export const parseSbatchOutput = (stdout: string): string | null => {
  const match = /^(\d+)(?:;\S+)?\s*$/.exec(stdout.trim())
  return match?.[1] ?? null
}

/** `scontrol --oneliner show partition NAME`: its state (UP, DOWN, DRAIN, INACTIVE); null when not found. */
export const parseScontrolPartitionState = (stdout: string): string | null => field(stdout.split("\n")[0] ?? "", "State")
