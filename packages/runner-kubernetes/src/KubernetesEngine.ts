/**
 * The Kubernetes engine as the supervisor sees it: one set of settings per cluster (the infrastructure profile's
 * `kubernetes` clusters, each with its kubeconfig context and node pools; or the `FRUGAL_K8S_*` environment for
 * the current context), a runtime that sends each attempt to the cluster its placement's pool names
 * (`prod/h100-spot`), and for `--dry-run` the manifests an attempt would create.
 */
import { Effect } from "effect"
import { KubeConfig } from "@kubernetes/client-node"
import { stringify } from "yaml"
import type { InfraProfile, InvalidInput, KubernetesCluster } from "@frugal/core"
import { type AttemptRequest, type Engine, Runner, RunnerError, type UnprofiledCluster } from "@frugal/runner"
import { kubernetesSettingsFromEnvironment } from "./KubernetesConfig.ts"
import * as KubernetesRunner from "./KubernetesRunner.ts"
import { attemptManifests, defaultKubernetesSettings, type KubernetesSettings } from "./Manifests.ts"

/** The cluster name of settings read from the environment (the kubeconfig's current context). */
export const ENVIRONMENT_CLUSTER = "env"

export interface KubernetesClusterSettings {
  readonly settings: KubernetesSettings
  /** The kubeconfig context; null for the current one. */
  readonly context: string | null
}

export interface KubernetesEngineSettings {
  readonly clusters: Readonly<Record<string, KubernetesClusterSettings>>
  /** The environment's cluster, placed with the plan's GPU shape. */
  readonly unprofiled: UnprofiledCluster
}

const fromProfile = (cluster: KubernetesCluster): KubernetesClusterSettings => ({
  context: cluster.context ?? null,
  settings: {
    ...defaultKubernetesSettings,
    namespace: cluster.namespace,
    image: cluster.image,
    imagePullPolicy: cluster.imagePullPolicy ?? null,
    serviceAccountName: cluster.serviceAccount ?? null,
    checkpointClaim: cluster.checkpointClaim ?? null,
    checkpointStorageClass: cluster.storageClass ?? null,
    checkpointSize: cluster.checkpointSize,
    capacityTypeLabel: cluster.capacityLabel,
    zoneNames: cluster.zoneNames ?? {},
    poolInstanceTypes: Object.fromEntries(
      cluster.pools.flatMap((pool) => (pool.instanceType === undefined ? [] : [[`${cluster.name}/${pool.name}`, pool.instanceType] as const]))
    )
  }
})

/** Settings from the profile and the environment; `hourlyPriceUsd` prices the environment's cluster. */
export const kubernetesEngineSettings = (
  profile: InfraProfile,
  env: NodeJS.ProcessEnv,
  hourlyPriceUsd: number,
  capacityType: "spot" | "on-demand"
): Effect.Effect<KubernetesEngineSettings, InvalidInput> =>
  Effect.map(kubernetesSettingsFromEnvironment(env), (found) => ({
    clusters: {
      ...Object.fromEntries((profile.kubernetes ?? []).map((cluster) => {
        const settings = fromProfile(cluster)
        const timeout = found.unschedulableTimeoutSeconds
        return [cluster.name, timeout === null ? settings : { ...settings, settings: { ...settings.settings, unschedulableTimeoutSeconds: timeout } }] as const
      })),
      [ENVIRONMENT_CLUSTER]: { settings: found.settings, context: null }
    },
    unprofiled: {
      engine: "kubernetes",
      pool: `${ENVIRONMENT_CLUSTER}/${found.settings.namespace}`,
      instanceType: `kubernetes:${found.settings.namespace}`,
      hourlyPriceUsd,
      nodes: found.nodes,
      gpusPerNode: found.gpusPerNode,
      capacityType
    }
  }))

/** The cluster a placement runs on: its pool's cluster, else the environment's. */
const clusterOf = (engine: KubernetesEngineSettings, request: { readonly placement?: AttemptRequest["placement"] }): KubernetesClusterSettings | null => {
  const pool = request.placement?.pool ?? null
  const name = pool === null ? ENVIRONMENT_CLUSTER : pool.slice(0, pool.indexOf("/"))
  return engine.clusters[name] ?? null
}

/** The objects an attempt creates, as YAML documents. */
export const manifestsText = (request: AttemptRequest, settings: KubernetesSettings): { readonly request: unknown; readonly text: string } => {
  const manifests = attemptManifests(request, settings)
  const documents = [manifests.claim, manifests.service, manifests.job].filter((manifest) => manifest !== null)
  return { request: documents, text: documents.map((document) => stringify(document, { aliasDuplicateObjects: false })).join("---\n") }
}

/**
 * The engine; `kubeConfig` overrides how a context's kubeconfig is loaded (tests point it at a loopback API server).
 */
export const kubernetesEngine = (
  engine: KubernetesEngineSettings,
  kubeConfig: (context: string | null) => KubeConfig = loadKubeConfig
): Engine => ({
  name: "kubernetes",
  describeLaunch: (request) => {
    const cluster = clusterOf(engine, request)
    if (cluster === null) return { engine: "kubernetes", request: { error: `no cluster for pool ${request.placement.pool ?? ""}` }, text: "# no such cluster" }
    return { engine: "kubernetes", ...manifestsText(request, cluster.settings) }
  },
  runner: Effect.sync(() => {
    const runners = new Map<string, Runner["Service"]>()
    const runnerFor = (request: { readonly attemptId: string; readonly placement?: AttemptRequest["placement"] }) => {
      const cluster = clusterOf(engine, request)
      if (cluster === null) {
        return Effect.fail(new RunnerError({ runner: "kubernetes", operation: "route", attemptId: request.attemptId, detail: `no cluster for pool ${request.placement?.pool ?? ""}` }))
      }
      const key = `${cluster.context ?? ""}|${cluster.settings.namespace}`
      let runner = runners.get(key)
      if (runner === undefined) {
        let clients: KubernetesRunner.KubernetesClients | undefined
        runner = KubernetesRunner.make(
          cluster.settings,
          () => (clients ??= KubernetesRunner.clientsFrom(kubeConfig(cluster.context))),
          cluster.settings.terminationGracePeriodSeconds
        )
        runners.set(key, runner)
      }
      return Effect.succeed(runner)
    }
    return Runner.of({
      name: "kubernetes",
      submit: (request) => Effect.flatMap(runnerFor(request), (runner) => runner.submit(request)),
      adopt: (orphan, request) =>
        Effect.flatMap(runnerFor(request), (runner) => (runner.adopt === undefined ? Effect.succeed(null) : runner.adopt(orphan, request))),
      stopOrphan: (orphan, options) => Effect.flatMap(runnerFor(orphan), (runner) => runner.stopOrphan(orphan, options)),
      logs: (attempt) => KubernetesRunner.logs(attempt)
    })
  })
})

/** The kubeconfig the way kubectl finds it, switched to `context` when one is named. */
export const loadKubeConfig = (context: string | null): KubeConfig => {
  const config = new KubeConfig()
  config.loadFromDefault()
  if (context !== null) config.setCurrentContext(context)
  return config
}
