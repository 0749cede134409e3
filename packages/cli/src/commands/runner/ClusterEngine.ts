/**
 * `frugal run --runner slurm|kubernetes|ec2`: the engine layer, the placement an attempt is charged at, and
 * what `--dry-run` prints, for each cluster engine. Loaded only when such a runner is asked for, so neither
 * `frugal plan` nor a local run loads the Kubernetes client or the EC2 SDK; each engine's settings come from
 * the environment (documented in docs/runner-<engine>.md) and a bad one is an InvalidInput (exit 2).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { stringify } from "yaml"
import { InvalidInput, type Workload } from "@frugal/core"
import type { AttemptRequest, JobSpec, Placement, Runner } from "@frugal/runner"

export type ClusterRunnerName = "slurm" | "kubernetes" | "ec2"

export interface ClusterEngine {
  readonly layer: Layer.Layer<Runner>
  readonly placement: (workload: Workload, pricePerHourUsd: number) => Placement
  /** What the engine would submit for the job's first attempt. */
  readonly dryRun: (jobId: string, spec: JobSpec) => string
}

/** Accelerators the workload pins (`resources.accelerators: [H100:16]`), split into nodes of at most 8. */
export const pinnedAccelerators = (workload: Workload): { readonly name: string; readonly nodes: number; readonly perNode: number } | null => {
  const request = workload.resources?.accelerators?.find((entry) => entry.count !== null)
  if (request === undefined || request.count === null) return null
  const perNode = Math.min(8, request.count)
  return { name: request.accelerator, nodes: Math.ceil(request.count / perNode), perNode }
}

/** The request the first attempt of a job would make, for `--dry-run`. */
export const firstAttempt = (jobId: string, spec: JobSpec, logPath: string): AttemptRequest => ({
  jobId,
  attemptId: `${jobId}-1`,
  placement: spec.placement,
  launch: spec.launch,
  checkpointEverySeconds: spec.checkpointEverySeconds,
  logPath
})

const notBuilt = (runner: string) =>
  new InvalidInput({
    source: "--runner",
    issues: [{ path: "--runner", expected: "local, slurm or kubernetes (this engine is not in this build yet)", actual: runner }]
  })

export const clusterEngine = (runner: ClusterRunnerName, env: NodeJS.ProcessEnv): Effect.Effect<ClusterEngine, InvalidInput> =>
  Effect.gen(function*() {
    switch (runner) {
      case "slurm": {
        const slurm = yield* Effect.promise(() => import("@frugal/runner-slurm"))
        const settings = yield* slurm.slurmSettingsFromEnvironment(env)
        const options = { ...slurm.SlurmRunner.defaultSlurmOptions, ...settings.options }
        return {
          layer: slurm.SlurmRunner.layer(settings.options),
          placement: (workload, price) => {
            const pinned = pinnedAccelerators(workload)
            const perNode = settings.gpusPerNode ?? pinned?.perNode ?? 0
            return {
              instanceType: options.partition ?? "slurm",
              region: "slurm",
              availabilityZone: null,
              // The cluster's own capacity, not pre-emptible spot as far as the supervisor's policy goes.
              purchaseOption: "on-demand",
              hourlyPriceUsd: price,
              instanceCount: settings.nodes,
              accelerator: perNode > 0 ? pinned?.name ?? null : null,
              acceleratorsPerInstance: perNode,
              interruptionsPerHour: 0
            }
          },
          dryRun: (jobId, spec) => slurm.SlurmRunner.scriptFor(options, firstAttempt(jobId, spec, "/dev/null"))
        }
      }
      case "kubernetes": {
        const k8s = yield* Effect.promise(() => import("@frugal/runner-kubernetes"))
        const found = yield* k8s.kubernetesSettingsFromEnvironment(env)
        return {
          layer: k8s.KubernetesRunner.layer(found.settings),
          placement: (workload, price) => {
            const pinned = pinnedAccelerators(workload)
            const perNode = found.gpusPerNode ?? pinned?.perNode ?? 0
            const spot = workload.resources?.purchaseOptions?.includes("spot") ?? workload.constraints.interruptible
            return {
              instanceType: `kubernetes:${found.settings.namespace}`,
              region: "kubernetes",
              availabilityZone: null,
              purchaseOption: spot ? "spot" : "on-demand",
              hourlyPriceUsd: price,
              instanceCount: found.nodes ?? pinned?.nodes ?? 1,
              accelerator: perNode > 0 ? pinned?.name ?? null : null,
              acceleratorsPerInstance: perNode,
              interruptionsPerHour: 0
            }
          },
          dryRun: (jobId, spec) => {
            const manifests = k8s.attemptManifests(firstAttempt(jobId, spec, "/dev/null"), found.settings)
            return [manifests.claim, manifests.service, manifests.job]
              .filter((manifest) => manifest !== null)
              .map((manifest) => stringify(manifest, { aliasDuplicateObjects: false }))
              .join("---\n")
          }
        }
      }
      default:
        return yield* notBuilt(runner)
    }
  })

/** The engine's layer, for the supervisor; settings errors surface when the command runs. */
export const clusterRunnerLayer = (runner: ClusterRunnerName, env: NodeJS.ProcessEnv): Layer.Layer<Runner, InvalidInput> =>
  Layer.unwrap(Effect.map(clusterEngine(runner, env), (engine) => engine.layer))
