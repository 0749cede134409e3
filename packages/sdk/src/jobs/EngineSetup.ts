/**
 * The engines a job may use, built from the infrastructure profile and the environment: `local` always; `ec2` from
 * the profile's `aws` section or `FRUGAL_EC2_*`; `slurm` and `kubernetes` from their profile clusters, or from
 * `FRUGAL_SLURM_*` / `FRUGAL_K8S_*` alone (then the plan's GPU shape is placed on that cluster). Each engine
 * package is imported only when the job may use it, so a local run never loads the EC2 SDK or the Kubernetes
 * client. Settings are checked here, before anything runs: a bad one is `InvalidInput` naming it (exit 2).
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { type InfraProfile, InvalidInput } from "@frugal/core"
import { type Engine, type EngineName, Engines, localEngine, type UnprofiledCluster } from "@frugal/runner"

export interface EngineOptions {
  /** `--runner`: the one engine to use; absent: every engine the profile configures (else this machine). */
  readonly runner?: EngineName | undefined
  /** Prices a cluster configured only by the environment, and local attempts without a profile price. */
  readonly pricePerHourUsd?: number | undefined
  /** Kubernetes without a profile asks for spot capacity when the workload is interruptible. */
  readonly interruptible?: boolean | undefined
  /** Seconds the local engine gives a stopped command for its final checkpoint (default 30). */
  readonly localGraceSeconds?: number | undefined
}

export interface EngineSetup {
  /** The engines in use, in the order a plan's placements are tried for them. */
  readonly names: ReadonlyArray<EngineName>
  readonly engines: Partial<Record<EngineName, Engine>>
  /** Clusters configured by the environment alone. */
  readonly unprofiled: ReadonlyArray<UnprofiledCluster>
  /** The `Engines` service over them; each runtime starts on first use and stops with the layer. */
  readonly layer: Layer.Layer<Engines>
  /** The profile as the engines use it: the file's, with the environment's one-region EC2 overrides applied. */
  readonly profile: InfraProfile
}

const hasEnvironment = (env: Readonly<Record<string, string | undefined>>, prefix: string) =>
  Object.entries(env).some(([name, value]) => name.startsWith(prefix) && value !== undefined && value.trim() !== "")

/** The engines a profile and environment configure, when `--runner` does not choose one. */
export const configuredEngines = (profile: InfraProfile, env: Readonly<Record<string, string | undefined>>): ReadonlyArray<EngineName> => {
  const names: Array<EngineName> = []
  if (profile.aws !== undefined || hasEnvironment(env, "FRUGAL_EC2_")) names.push("ec2")
  if (profile.slurm !== undefined) names.push("slurm")
  if (profile.kubernetes !== undefined) names.push("kubernetes")
  return names.length === 0 ? ["local"] : names
}

/** Builds the engines named, checking their settings. */
export const setUpEngines = (
  profile: InfraProfile,
  env: Readonly<Record<string, string | undefined>>,
  names: ReadonlyArray<EngineName>,
  options: EngineOptions = {}
): Effect.Effect<EngineSetup, InvalidInput> =>
  Effect.gen(function*() {
    const price = options.pricePerHourUsd ?? 0
    const engines: Partial<Record<EngineName, Engine>> = {}
    const unprofiled: Array<UnprofiledCluster> = []
    let effective = profile
    for (const name of new Set(names)) {
      switch (name) {
        case "local":
          engines.local = localEngine(options.localGraceSeconds === undefined ? {} : { graceSeconds: options.localGraceSeconds })
          break
        case "ec2": {
          const ec2 = yield* Effect.promise(() => import("@frugal/runner-ec2"))
          const aws = yield* ec2.ec2ProfileWithEnvironment(profile, env)
          if (aws === null) {
            return yield* new InvalidInput({
              source: "--runner",
              issues: [{ path: "--infra", expected: "an infrastructure profile with an aws section (or FRUGAL_EC2_* variables) for the ec2 engine" }]
            })
          }
          const checkpoints = aws.checkpoints
          if (checkpoints === undefined) {
            return yield* new InvalidInput({
              source: "infrastructure profile",
              issues: [{ path: "aws.checkpoints", expected: "a checkpoint store { uri: s3://bucket/prefix, region } for jobs on EC2 (or FRUGAL_EC2_CHECKPOINT_URI)" }]
            })
          }
          engines.ec2 = ec2.ec2Engine(ec2.ec2SettingsFromProfile({ ...aws, checkpoints }))
          effective = { ...effective, aws }
          break
        }
        case "slurm": {
          const slurm = yield* Effect.promise(() => import("@frugal/runner-slurm"))
          const settings = yield* slurm.slurmEngineSettings(profile, env, price)
          engines.slurm = slurm.slurmEngine(settings.options)
          if (profile.slurm === undefined) unprofiled.push(settings.unprofiled)
          break
        }
        case "kubernetes": {
          const k8s = yield* Effect.promise(() => import("@frugal/runner-kubernetes"))
          const settings = yield* k8s.kubernetesEngineSettings(profile, env, price, options.interruptible === false ? "on-demand" : "spot")
          engines.kubernetes = k8s.kubernetesEngine(settings)
          if (profile.kubernetes === undefined) unprofiled.push(settings.unprofiled)
          break
        }
      }
    }
    const factories = Object.fromEntries(Object.entries(engines).map(([name, engine]) => [name, Effect.succeed(engine)]))
    return { names: [...new Set(names)], engines, unprofiled, layer: Engines.make(factories), profile: effective }
  })
