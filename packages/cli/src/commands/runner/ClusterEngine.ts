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
import type { AttemptRequest, JobSpec, LaunchSpec, Placement, Runner } from "@frugal/runner"

export type ClusterRunnerName = "slurm" | "kubernetes" | "ec2"

export interface ClusterEngine {
  readonly layer: Layer.Layer<Runner>
  readonly placement: (workload: Workload, pricePerHourUsd: number) => Placement
  /** The job's launch with what the engine derives from the workload (Slurm: the time limit from the estimate). */
  readonly launch: (workload: Workload, launch: LaunchSpec) => LaunchSpec
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

const notBuilt = (runner: never) =>
  new InvalidInput({ source: "--runner", issues: [{ path: "--runner", expected: "local, slurm, kubernetes or ec2", actual: String(runner) }] })

export const clusterEngine = (runner: ClusterRunnerName, env: NodeJS.ProcessEnv): Effect.Effect<ClusterEngine, InvalidInput> =>
  Effect.gen(function*() {
    switch (runner) {
      case "slurm": {
        const slurm = yield* Effect.promise(() => import("@frugal/runner-slurm"))
        const settings = yield* slurm.slurmSettingsFromEnvironment(env)
        const options = { ...slurm.SlurmRunner.defaultSlurmOptions, ...settings.options }
        const placement = (workload: Workload, price: number): Placement => {
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
        }
        return {
          layer: slurm.SlurmRunner.layer(settings.options),
          placement,
          // `--time` from the estimate on this placement (docs/runner-slurm.md), unless FRUGAL_SLURM_TIME_MINUTES
          // is set in the environment (it wins in the engine) or in the workload's run.env.
          launch: (workload, launch) => {
            if (options.timeLimitMinutes !== null || launch.env[slurm.TIME_LIMIT_VARIABLE] !== undefined) return launch
            const at = placement(workload, 0)
            const minutes = slurm.workloadTimeLimitMinutes(workload, at.accelerator, at.instanceCount * at.acceleratorsPerInstance, options.signalSeconds)
            return minutes === null ? launch : { ...launch, env: { ...launch.env, [slurm.TIME_LIMIT_VARIABLE]: String(minutes) } }
          },
          dryRun: (jobId, spec) => slurm.SlurmRunner.scriptFor(options, firstAttempt(jobId, spec, "/dev/null"))
        }
      }
      case "kubernetes": {
        const k8s = yield* Effect.promise(() => import("@frugal/runner-kubernetes"))
        const found = yield* k8s.kubernetesSettingsFromEnvironment(env)
        return {
          layer: k8s.KubernetesRunner.layer(found.settings),
          launch: (_workload, launch) => launch,
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
      case "ec2": {
        const ec2 = yield* Effect.promise(() => import("@frugal/runner-ec2"))
        const settings = yield* ec2.ec2SettingsFromEnvironment(env)
        const instanceType = env["FRUGAL_EC2_INSTANCE_TYPE"]?.trim() ?? ""
        const zone = env["FRUGAL_EC2_ZONE"]?.trim() || Object.keys(settings.subnets)[0] || null
        const purchase = env["FRUGAL_EC2_PURCHASE"]?.trim() || null
        const issues = [
          ...(instanceType === "" ? [{ path: "FRUGAL_EC2_INSTANCE_TYPE", expected: "an EC2 instance type (p5.48xlarge; frugal plan recommends one)" }] : []),
          ...(zone !== null && settings.subnets[zone] === undefined
            ? [{ path: "FRUGAL_EC2_ZONE", expected: `an AZ ID with a subnet in FRUGAL_EC2_SUBNETS (${Object.keys(settings.subnets).join(", ")})`, actual: zone }]
            : []),
          ...(purchase !== null && purchase !== "spot" && purchase !== "on-demand"
            ? [{ path: "FRUGAL_EC2_PURCHASE", expected: "spot or on-demand", actual: purchase }]
            : [])
        ]
        if (issues.length > 0) return yield* new InvalidInput({ source: "environment", issues })
        return {
          layer: ec2.Ec2Runner.layer(settings),
          launch: (_workload, launch) => launch,
          placement: (workload, price) => {
            const pinned = pinnedAccelerators(workload)
            return {
              instanceType,
              region: settings.region,
              availabilityZone: zone,
              purchaseOption: purchase === "on-demand" || (purchase === null && !workload.constraints.interruptible) ? "on-demand" : "spot",
              hourlyPriceUsd: price,
              instanceCount: pinned?.nodes ?? 1,
              accelerator: pinned?.name ?? null,
              acceleratorsPerInstance: pinned?.perNode ?? 0,
              interruptionsPerHour: 0
            }
          },
          dryRun: (jobId, spec) => {
            const input = ec2.Ec2Runner.runInstancesInput(settings, firstAttempt(jobId, spec, "/dev/null"))
            const userData = Buffer.from(input.UserData ?? "", "base64").toString("utf8")
            return `${JSON.stringify({ RunInstances: { ...input, UserData: "(below, base64-encoded on the wire)" } }, null, 2)}\n\n# user data\n${userData}`
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
