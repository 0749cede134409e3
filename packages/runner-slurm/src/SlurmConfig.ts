/**
 * The Slurm engine's settings, read from the environment (the same variables in a login shell, a CI job or
 * a cron entry); the cluster itself is found the way every Slurm command finds it (`SLURM_CONF`).
 *
 * | variable | meaning |
 * |---|---|
 * | FRUGAL_SLURM_PARTITION | `--partition` (default: the cluster's default partition) |
 * | FRUGAL_SLURM_ACCOUNT, FRUGAL_SLURM_QOS | `--account`, `--qos` |
 * | FRUGAL_SLURM_NODES | nodes per attempt (default 1) |
 * | FRUGAL_SLURM_GPUS_PER_NODE | `--gpus-per-node` (default: the workload's accelerators per node, else 0) |
 * | FRUGAL_SLURM_TIME_MINUTES | `--time` for every job (default: derived from the workload's estimate, TimeLimit.ts; else the partition's) |
 * | FRUGAL_SLURM_SIGNAL_SECONDS | SIGUSR1 this long before the time limit (default 120) |
 * | FRUGAL_SLURM_CPUS_PER_TASK | `--cpus-per-task` |
 * | FRUGAL_SLURM_OUTPUT_DIR | shared directory for scripts and outputs (default next to the checkpoints) |
 * | FRUGAL_SLURM_EXTRA_OPTIONS | more `#SBATCH` options, separated by spaces (`--constraint=h100 --exclusive`) |
 */
import { Effect } from "effect"
import { InvalidInput } from "@frugal/core"
import { DIRECTIVE_NAME, EXTRA_OPTION } from "./BatchScript.ts"
import type { SlurmRunnerOptions } from "./SlurmRunner.ts"

export interface SlurmSettings {
  readonly options: Partial<SlurmRunnerOptions>
  /** Nodes per attempt when set (FRUGAL_SLURM_NODES); null takes the plan's. */
  readonly nodes: number | null
  readonly gpusPerNode: number | null
}

const text = (env: NodeJS.ProcessEnv, name: string): string | null => {
  const value = env[name]?.trim()
  return value === undefined || value === "" ? null : value
}

export const slurmSettingsFromEnvironment = (env: NodeJS.ProcessEnv): Effect.Effect<SlurmSettings, InvalidInput> =>
  Effect.gen(function*() {
    const issues: Array<{ path: string; expected: string; actual: string }> = []
    const integer = (name: string, minimum: number): number | null => {
      const raw = text(env, name)
      if (raw === null) return null
      const value = Number(raw)
      if (Number.isInteger(value) && value >= minimum) return value
      issues.push({ path: name, expected: `an integer ≥ ${minimum}`, actual: raw })
      return null
    }
    const nodes = integer("FRUGAL_SLURM_NODES", 1)
    const gpusPerNode = integer("FRUGAL_SLURM_GPUS_PER_NODE", 0)
    const timeLimitMinutes = integer("FRUGAL_SLURM_TIME_MINUTES", 1)
    const signalSeconds = integer("FRUGAL_SLURM_SIGNAL_SECONDS", 1)
    const cpusPerTask = integer("FRUGAL_SLURM_CPUS_PER_TASK", 1)
    const extra = text(env, "FRUGAL_SLURM_EXTRA_OPTIONS")
    const extraOptions = extra === null ? [] : extra.split(/\s+/)
    for (const option of extraOptions) {
      if (!EXTRA_OPTION.test(option)) {
        issues.push({ path: "FRUGAL_SLURM_EXTRA_OPTIONS", expected: "sbatch options like --constraint=h100 (--name or --name=value of letters, digits and _.,:/@%+=&|!*-)", actual: option })
      }
    }
    const name = (variable: string): string | null => {
      const raw = env[variable]
      const value = text(env, variable)
      if (value === null) return null
      if (DIRECTIVE_NAME.test(value) && raw?.trim() === value) return value
      issues.push({ path: variable, expected: "a name of letters, digits, '.', '_' and '-'", actual: JSON.stringify(raw) })
      return null
    }
    const partition = name("FRUGAL_SLURM_PARTITION")
    const account = name("FRUGAL_SLURM_ACCOUNT")
    const qos = name("FRUGAL_SLURM_QOS")
    const outputDirectory = text(env, "FRUGAL_SLURM_OUTPUT_DIR")
    if (outputDirectory !== null && (!outputDirectory.startsWith("/") || /[\u0000-\u001f\u007f]/.test(outputDirectory))) {
      issues.push({ path: "FRUGAL_SLURM_OUTPUT_DIR", expected: "an absolute path without control characters", actual: JSON.stringify(outputDirectory) })
    }
    if (issues.length > 0) return yield* new InvalidInput({ source: "environment", issues })
    return {
      nodes,
      gpusPerNode,
      options: {
        partition,
        account,
        qos,
        timeLimitMinutes,
        ...(signalSeconds === null ? {} : { signalSeconds }),
        cpusPerTask,
        outputDirectory,
        extraOptions,
        commandEnvironment: env
      }
    }
  })
