/**
 * The batch script `sbatch` receives for one Frugal job: pure text generation, no I/O, so every option and
 * every quoting rule is tested at the script level.
 *
 * The script is the one place a shell is involved, so every argument and environment value is single-quoted
 * (`'…'` with `'` written as `'\''`): `;`, `$(…)`, backticks, globs and line breaks reach the command as plain
 * characters. `#SBATCH` directives are built only from numbers and from names checked against a strict pattern
 * (`directiveProblems`); paths (the output file, the working directory) never become directive text: they are
 * sbatch's command-line arguments (`sbatchArguments`), which the runner passes as argv.
 * The command runs in the background with its stdout, stderr and exit status in per-restart files on shared
 * storage (`<slurm job id>.<restart>.out|err|exit`), so the runner can tell the attempts of a requeued job
 * apart. SIGTERM (scancel, requeue, pre-emption) and SIGUSR1 (`--signal=B:USR1@N` before the time limit; `B:`
 * sends it to the batch shell only) are forwarded to the command, which checkpoints and exits 75.
 */
import { standalone, torchrunArgv } from "@frugal/runner"

export interface BatchScriptInput {
  readonly jobName: string
  readonly partition: string | null
  readonly account: string | null
  readonly qos: string | null
  readonly nodes: number
  /** Accelerators per node; 0 asks for none (a CPU job). */
  readonly gpusPerNode: number
  readonly cpusPerTask: number | null
  /** Whole minutes; null leaves the partition's default. */
  readonly timeLimitMinutes: number | null
  /** Seconds before the time limit at which the batch shell receives SIGUSR1. */
  readonly signalSeconds: number
  /** Directory on shared storage for the script's outputs (stdout, stderr and exit status per restart). */
  readonly outputDirectory: string
  readonly workdir: string
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** TCP port of the torchrun c10d rendezvous on the first node (multi-node only). */
  readonly rendezvousPort: number
  /** Extra `#SBATCH` options from the configuration (`--constraint=h100`), each checked by `EXTRA_OPTION`. */
  readonly extraOptions: ReadonlyArray<string>
  /** Processes per node (`Torchrun.processesPerNode`): above 1, or on several nodes, the argv runs under torchrun. */
  readonly processesPerNode: number
  /** What starts torchrun (`python -m frugal_trainer.torchrun` from the launch); null: `torchrun` on PATH. */
  readonly torchrunProgram: ReadonlyArray<string> | null
}

/** Names that may appear in a directive: partitions, accounts, QOS, job names. */
export const DIRECTIVE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/** An extra option: `--name` or `--name=value` of ordinary characters, nothing a line or a shell could split. */
export const EXTRA_OPTION = /^--?[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9_.,:/@%+=&|!*-]{1,256})?$/

/** What in the input would make a directive carry more than one option, or anything but its value. */
export const directiveProblems = (input: BatchScriptInput): ReadonlyArray<string> => [
  ...(DIRECTIVE_NAME.test(input.jobName) ? [] : [`job name ${JSON.stringify(input.jobName)}`]),
  ...([["partition", input.partition], ["account", input.account], ["qos", input.qos]] as const).flatMap(([what, value]) =>
    value === null || DIRECTIVE_NAME.test(value) ? [] : [`${what} ${JSON.stringify(value)} (letters, digits, '.', '_' and '-')`]
  ),
  ...input.extraOptions.filter((option) => !EXTRA_OPTION.test(option)).map((option) => `extra option ${JSON.stringify(option)}`),
  // Paths are sbatch arguments and quoted words of the script; a line break in one would still split the script's text.
  ...([["output directory", input.outputDirectory], ["working directory", input.workdir]] as const)
    .filter(([, path]) => /[\u0000-\u001f\u007f]/.test(path))
    .map(([what, path]) => `${what} ${JSON.stringify(path)} (no control characters)`),
  ...([input.nodes, input.gpusPerNode, input.signalSeconds, input.cpusPerTask ?? 1, input.timeLimitMinutes ?? 1] as const)
    .filter((n) => !Number.isFinite(n) || n < 0)
    .map((n) => `number ${n}`)
]

/** A POSIX shell word that is exactly `value`. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Environment names a shell can export; anything else is refused before a script is written. */
export const invalidEnvironmentNames = (env: Readonly<Record<string, string>>): ReadonlyArray<string> =>
  Object.keys(env).filter((name) => !ENV_NAME.test(name))

const sbatchOptions = (input: BatchScriptInput): ReadonlyArray<string> => [
  `--job-name=${input.jobName}`,
  ...(input.partition === null ? [] : [`--partition=${input.partition}`]),
  ...(input.account === null ? [] : [`--account=${input.account}`]),
  ...(input.qos === null ? [] : [`--qos=${input.qos}`]),
  `--nodes=${input.nodes}`,
  "--ntasks-per-node=1",
  ...(input.gpusPerNode > 0 ? [`--gpus-per-node=${input.gpusPerNode}`] : []),
  ...(input.cpusPerTask === null ? [] : [`--cpus-per-task=${input.cpusPerTask}`]),
  ...(input.timeLimitMinutes === null ? [] : [`--time=${Math.max(1, Math.ceil(input.timeLimitMinutes))}`]),
  // A requeued job (pre-emption, `scontrol requeue`, node failure) runs the script again; it resumes
  // from the checkpoint directory on shared storage.
  "--requeue",
  `--signal=B:USR1@${input.signalSeconds}`,
  "--open-mode=append",
  ...input.extraOptions
]

/** Options with paths in them, given to sbatch as arguments (argv, no shell), ahead of the script. */
export const sbatchArguments = (input: BatchScriptInput): ReadonlyArray<string> => [
  `--output=${input.outputDirectory}/slurm-%j.log`,
  `--chdir=${input.workdir}`
]

/**
 * The launch line. One process: the argv itself. Several on one node: torchrun with a standalone rendezvous. Several
 * nodes: one torchrun per node through `srun`, meeting at a c10d rendezvous on the first node of the allocation (the
 * node list and the first node are shell variables here, so this line is written out rather than built by
 * `torchrunArgv`, with the same flags).
 */
const launchLine = (input: BatchScriptInput): string => {
  const program = input.torchrunProgram === null ? undefined : (input.torchrunProgram as readonly [string, ...Array<string>])
  if (input.nodes <= 1) {
    const argv = input.processesPerNode <= 1 || input.argv.length === 0
      ? input.argv
      : torchrunArgv({
        argv: input.argv,
        processesPerNode: input.processesPerNode,
        rendezvous: standalone,
        ...(program === undefined ? {} : { program })
      })
    return argv.map(shellQuote).join(" ")
  }
  return [
    "srun --nodes=\"$SLURM_JOB_NUM_NODES\" --ntasks-per-node=1 --kill-on-bad-exit=1",
    program === undefined ? "torchrun" : program.map(shellQuote).join(" "),
    "--nnodes=\"$SLURM_JOB_NUM_NODES\"",
    `--nproc_per_node=${Math.max(1, input.processesPerNode)}`,
    "--rdzv_backend=c10d",
    `--rdzv_endpoint="$head_node:${input.rendezvousPort}"`,
    "--rdzv_id=\"$SLURM_JOB_ID\"",
    "--no_python",
    input.argv.map(shellQuote).join(" ")
  ].join(" ")
}

export const batchScript = (input: BatchScriptInput): string => {
  const exports = Object.entries(input.env).map(([name, value]) => `export ${name}=${shellQuote(value)}`)
  const outputs = shellQuote(input.outputDirectory)
  return [
    "#!/bin/bash",
    "# Generated by frugal for one job; every attempt (Slurm restart) of the job runs this script again.",
    ...sbatchOptions(input).map((option) => `#SBATCH ${option}`),
    "",
    ...exports,
    "export PYTHONUNBUFFERED=1",
    "restart=\"${SLURM_RESTART_COUNT:-0}\"",
    "export FRUGAL_SLURM_RESTART=\"$restart\"",
    `base=${outputs}/"$SLURM_JOB_ID.$restart"`,
    ...(input.nodes > 1
      ? ["head_node=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"", "export head_node"]
      : []),
    `${launchLine(input)} >"$base.out" 2>"$base.err" </dev/null &`,
    "child=$!",
    "trapped=0",
    "trap 'trapped=1; kill -TERM \"$child\" 2>/dev/null' TERM",
    "trap 'trapped=1; kill -USR1 \"$child\" 2>/dev/null' USR1",
    // `wait` returns early when a trapped signal arrives; wait again until the command itself has ended
    // (bash keeps a reaped child's status, so the second wait still reports it).
    "while :; do",
    "  trapped=0",
    "  wait \"$child\"",
    "  status=$?",
    "  [ \"$trapped\" = 1 ] || break",
    "done",
    // Written last and renamed into place: the runner reads a complete status or none.
    "printf '%s\\n' \"$status\" >\"$base.exit.tmp\" && mv -f \"$base.exit.tmp\" \"$base.exit\"",
    "exit \"$status\"",
    ""
  ].join("\n")
}

/** Per-restart output files of a Slurm job, as the script names them. */
export const attemptFiles = (outputDirectory: string, slurmJobId: string, restart: number) => {
  const base = `${outputDirectory}/${slurmJobId}.${restart}`
  return { stdout: `${base}.out`, stderr: `${base}.err`, exit: `${base}.exit` }
}
