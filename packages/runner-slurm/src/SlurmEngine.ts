/**
 * The Slurm engine as the supervisor sees it: its settings from the infrastructure profile's `slurm` clusters (each
 * partition's account and QOS) and the `FRUGAL_SLURM_*` environment (docs/runner-slurm.md), its runtime
 * (SlurmRunner), and for `--dry-run` the sbatch command line with the batch script it would submit.
 *
 * The local Slurm commands reach one cluster (`SLURM_CONF`): a profile naming several is planned over all of them,
 * but only the one those commands reach can be launched on from this machine.
 */
import { Effect } from "effect"
import type { InfraProfile, InvalidInput } from "@frugal/core"
import type { Engine, UnprofiledCluster } from "@frugal/runner"
import { slurmSettingsFromEnvironment } from "./SlurmConfig.ts"
import { makeSlurmCommands } from "./SlurmCommands.ts"
import * as SlurmRunner from "./SlurmRunner.ts"
import { isTerminal } from "./SlurmJob.ts"

export interface SlurmEngineSettings {
  readonly options: SlurmRunner.SlurmRunnerOptions
  /** The cluster the environment describes when it names no profile partition (`--runner slurm` alone). */
  readonly unprofiled: UnprofiledCluster
}

/** Settings from the profile and the environment; `hourlyPriceUsd` prices the environment's cluster (`--price-per-hour`). */
export const slurmEngineSettings = (
  profile: InfraProfile,
  env: NodeJS.ProcessEnv,
  hourlyPriceUsd: number
): Effect.Effect<SlurmEngineSettings, InvalidInput> =>
  Effect.map(slurmSettingsFromEnvironment(env), (settings) => {
    const clusters = profile.slurm ?? []
    const pools = Object.fromEntries(clusters.flatMap((cluster) =>
      cluster.partitions.map((partition) => [`${cluster.name}/${partition.name}`, { account: partition.account ?? null, qos: partition.qos ?? null }] as const)
    ))
    const first = clusters[0]
    const options: SlurmRunner.SlurmRunnerOptions = {
      ...SlurmRunner.defaultSlurmOptions,
      ...settings.options,
      outputDirectory: settings.options.outputDirectory ?? first?.outputDirectory ?? null,
      timeLimitMinutes: settings.options.timeLimitMinutes ?? first?.timeLimitMinutes ?? null,
      pools
    }
    return {
      options,
      unprofiled: {
        engine: "slurm",
        pool: `env/${options.partition ?? "default"}`,
        instanceType: options.partition ?? "slurm",
        hourlyPriceUsd,
        nodes: settings.nodes,
        gpusPerNode: settings.gpusPerNode
      }
    }
  })

export const slurmEngine = (options: SlurmRunner.SlurmRunnerOptions): Engine => ({
  name: "slurm",
  describeLaunch: (request) => {
    const scriptPath = `${SlurmRunner.outputDirectoryFor(options, request)}/${request.attemptId}.sbatch`
    const argv = SlurmRunner.sbatchCommandFor(options, request, scriptPath)
    const script = SlurmRunner.scriptFor(options, request)
    return { engine: "slurm", request: { sbatch: argv, script }, text: `# ${argv.join(" ")}\n${script}` }
  },
  runner: Effect.gen(function*() {
    const commands = makeSlurmCommands(options.commandEnvironment)
    const tracked = new Map<string, { readonly slurmJobId: string }>()
    // Nothing left queued: closing the engine cancels every Slurm job it still tracks.
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...tracked.values()], ({ slurmJobId }) =>
        Effect.ignore(Effect.flatMap(commands.show(slurmJobId), (state) =>
          state === null || isTerminal(state) ? Effect.void : commands.scancel(slurmJobId))), { discard: true })
    )
    return SlurmRunner.make(options, commands, tracked)
  })
})
