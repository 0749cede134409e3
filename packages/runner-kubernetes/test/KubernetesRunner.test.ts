/**
 * The Kubernetes engine under the real Supervisor and ledger, driving the real `@kubernetes/client-node`
 * against a loopback API server (FakeKubernetesApi): a Job runs to completion; a pod ending with the
 * DisruptionTarget condition (spot reclamation) becomes an interruption and the job resumes in a new Job; an
 * application error is a crash, counted against the retry budget and not retried forever; a pod no node can take
 * is a failed launch after the timeout, and the job fails over to the next pool.
 */
import { KubeConfig } from "@kubernetes/client-node"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Job } from "kubernetes-models/batch/v1/Job"
import { decodeInfraProfile, decodeWorkloadFile, workloadsOf } from "@frugal/core"
import { plan as planPure } from "@frugal/planner"
import { catalogForProfile, EmbeddedCatalog } from "@frugal/pricing"
import { Engines, type JobOutcome, jobPolicy, type JobSpec, launchPlan, Ledger, Supervisor } from "@frugal/runner"
import { defaultKubernetesSettings, kubernetesEngine, kubernetesEngineSettings, KubernetesRunner } from "@frugal/runner-kubernetes"
import { FakeKubernetesApi } from "./FakeKubernetesApi.ts"

let api: FakeKubernetesApi
let dir: string

beforeEach(async () => {
  api = new FakeKubernetesApi()
  await api.start()
  dir = mkdtempSync(join(tmpdir(), "frugal-k8s-"))
})
afterEach(async () => {
  await api.stop()
  rmSync(dir, { recursive: true, force: true })
})

const kubeConfig = (): KubeConfig => {
  const config = new KubeConfig()
  config.loadFromOptions({
    clusters: [{ name: "loopback", server: api.url, skipTLSVerify: true }],
    users: [{ name: "tester", token: "test-token" }],
    contexts: [{ name: "loopback", cluster: "loopback", user: "tester", namespace: "training" }],
    currentContext: "loopback"
  })
  return config
}

const spec = (maxCrashes = 3): JobSpec => ({
  name: "k8s-test",
  launch: { argv: ["python3", "-m", "frugal_trainer"], env: {}, workdir: dir, checkpointDir: join(dir, "checkpoints") },
  placement: {
    instanceType: "p5.48xlarge",
    region: "us-east-1",
    availabilityZone: "use1-az4",
    purchaseOption: "spot",
    hourlyPriceUsd: 36,
    instanceCount: 1,
    accelerator: "H100",
    acceleratorsPerInstance: 8,
    interruptionsPerHour: 0
  },
  retry: { maxInterruptions: 5, maxCrashes },
  checkpointEverySeconds: null,
  precision: "bf16"
})

const supervise = (jobId: string, jobSpec: JobSpec): Promise<JobOutcome> =>
  Effect.runPromise(
    Effect.flatMap(Effect.service(Supervisor), (supervisor) => supervisor.run(jobId, jobSpec, { logDirectory: join(dir, "logs") })).pipe(
      Effect.provide(
        Supervisor.layerWithRunner.pipe(Layer.provideMerge(Layer.merge(
          KubernetesRunner.layer({ ...defaultKubernetesSettings, namespace: "training" }, kubeConfig(), 5),
          Ledger.layerFile(join(dir, "ledger.sqlite"))
        )))
      )
    )
  )

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
const now = () => new Date().toISOString()
const HASH = "ab".repeat(32)

/** Waits for the n-th Job (1-based) to exist and returns its pod 0. */
const nthJobPod = async (n: number): Promise<{ job: string; pod: string }> => {
  for (let i = 0; i < 200; i++) {
    const job = api.createdJobs[n - 1]
    const pod = job === undefined ? undefined : api.podsOf(job)[0]
    if (job !== undefined && pod !== undefined) return { job, pod }
    await sleep(50)
  }
  throw new Error(`job ${n} was never created: ${api.requests.join(", ")}`)
}

/** Gives the runner's pod watch and log follow time to attach before the pod speaks. */
const startPod = async (pod: string) => {
  await sleep(300)
  api.runPod(pod)
  await sleep(300)
}

const started = (resumedFromStep: number | null) =>
  JSON.stringify({ event: "started", time: now(), step: resumedFromStep ?? 0, resumedFromStep, tokensSeen: 0, device: "cuda:0", precision: "bf16", pid: 1 })
const checkpoint = (step: number) =>
  JSON.stringify({ event: "checkpoint", time: now(), step, path: `/checkpoints/k8s/step-${step}`, bytes: 1000, blockingSeconds: 0.1, totalSeconds: 0.5 })
const completed = (step: number) => JSON.stringify({ event: "completed", time: now(), step, tokensSeen: step * 100, weightsSha256: HASH })

/** A profile cluster with a spot and an on-demand pool of 8 × H100 nodes in one zone. */
const POOLS_PROFILE = [
  "kubernetes:",
  "  - name: prod",
  "    namespace: training",
  "    region: us-east-1",
  "    zoneNames: { use1-az4: us-east-1a }",
  "    pools:",
  "      - { name: h100-spot, accelerator: H100, gpusPerNode: 8, capacityType: spot, zone: use1-az4, instanceType: p5.48xlarge, hourlyPriceUsd: 30 }",
  "      - { name: h100-od, accelerator: H100, gpusPerNode: 8, capacityType: on-demand, zone: use1-az4, instanceType: p5.48xlarge, hourlyPriceUsd: 60 }"
].join("\n")

/**
 * A 1B-parameter job planned over the two pools and supervised on them with `policy`, under the real supervisor and
 * the Kubernetes engine with `env` as its environment: its ranked placements, the engine's settings, and the outcome.
 */
const superviseOnPools = (jobId: string, policyName: "on-demand" | "frugal", env: NodeJS.ProcessEnv = {}) => {
  const profile = Effect.runSync(decodeInfraProfile(POOLS_PROFILE, "infra.yaml"))
  const [workload] = workloadsOf(Effect.runSync(decodeWorkloadFile([
    `name: ${jobId}`,
    "kind: training",
    "model: { parameters: 1B }",
    "training: { tokens: 2B }",
    "constraints: { deadlineHours: 48 }"
  ].join("\n"), "job.yaml")))
  if (workload === undefined) throw new Error("fixture")
  const catalog = catalogForProfile(EmbeddedCatalog.catalog(), profile)
  const planned = Effect.runSync(planPure(workload, catalog, { top: 50 }))
  const { placements } = launchPlan({ plan: planned, catalog, profile, engines: ["kubernetes"] })
  const [first, ...rest] = placements
  if (first === undefined) throw new Error("no placement")
  const policy = jobPolicy(workload, planned, [first, ...rest], profile, { policy: policyName })
  const settings = Effect.runSync(kubernetesEngineSettings(profile, env, 0, "spot"))
  const jobSpec: JobSpec = { ...spec(), name: jobId, placement: first.placement }
  const outcome = Effect.runPromise(
    Effect.flatMap(Effect.service(Supervisor), (supervisor) => supervisor.run(jobId, jobSpec, { policy, logDirectory: join(dir, "logs") })).pipe(
      Effect.provide(Supervisor.layer.pipe(Layer.provideMerge(Layer.merge(
        Engines.make({ kubernetes: Effect.succeed(kubernetesEngine(settings, () => kubeConfig())) }),
        Ledger.layerFile(join(dir, "ledger.sqlite"))
      ))))
    )
  )
  return { placements, settings, outcome }
}

describe("Kubernetes engine against a loopback API server", () => {
  it("creates the checkpoint claim and a Job, follows the pod's log and completes", async () => {
    const outcome = supervise("k8s-complete", spec())
    const { job, pod } = await nthJobPod(1)
    await startPod(pod)
    api.print(pod, started(null))
    api.print(pod, "loading data (not protocol)")
    api.print(pod, checkpoint(10))
    api.print(pod, completed(20))
    api.endPod(pod, 0)
    const result = await outcome
    expect(result.status).toBe("completed")
    expect(result.weightsSha256).toBe(HASH)
    expect(result.attempts.map((a) => a.exitReason)).toEqual(["completed"])
    expect(api.requests).toContain("POST /api/v1/namespaces/training/persistentvolumeclaims")
    expect(api.claims.has("frugal-k8s-complete-checkpoints")).toBe(true)
    expect(api.requests).toContain(`DELETE /apis/batch/v1/namespaces/training/jobs/${job}?propagationPolicy=Background`)
    const log = readFileSync(result.attempts[0]?.logPath ?? "", "utf8")
    expect(log).toContain("loading data (not protocol)")
  }, 30_000)

  it("treats a pod ended with DisruptionTarget as an interruption and resumes in a new Job", async () => {
    const outcome = supervise("k8s-spot", spec())
    const first = await nthJobPod(1)
    await startPod(first.pod)
    api.print(first.pod, started(null))
    api.print(first.pod, checkpoint(10))
    api.print(first.pod, JSON.stringify({ event: "interrupted", time: now(), step: 12, reason: "SIGTERM", checkpointStep: 12 }))
    api.endPod(first.pod, 75, { disruption: true })
    const second = await nthJobPod(2)
    expect(second.job).not.toBe(first.job)
    await startPod(second.pod)
    api.print(second.pod, started(12))
    api.print(second.pod, completed(20))
    api.endPod(second.pod, 0)
    const result = await outcome
    expect(result.status).toBe("completed")
    expect(result.attempts.map((a) => a.exitReason)).toEqual(["interrupted", "completed"])
    expect(result.attempts[1]?.resumedFromStep).toBe(12)
    expect(api.jobs.size).toBe(0)
    const log = readFileSync(result.attempts[0]?.logPath ?? "", "utf8")
    expect(log).toContain("SpotInterrupted: Spot instance reclaimed")
    expect(log).toContain("was disrupted (DisruptionTarget)")
  }, 30_000)

  it("counts an application error as a crash and stops after the crash budget", async () => {
    const outcome = supervise("k8s-crash", spec(1))
    for (const n of [1, 2]) {
      const { pod } = await nthJobPod(n)
      await startPod(pod)
      api.print(pod, started(null))
      api.endPod(pod, 1)
    }
    const result = await outcome
    expect(result.status).toBe("failed")
    expect(result.attempts.map((a) => a.exitReason)).toEqual(["crashed", "crashed"])
    expect(api.requests.filter((r) => r.startsWith("POST /apis/batch/v1/"))).toHaveLength(2)
    expect(api.jobs.size).toBe(0)
  }, 30_000)

  it("places a profile's pools: a disruption in the spot pool makes the policy relaunch on the on-demand pool, asking for its GPUs", async () => {
    const { placements, outcome } = superviseOnPools("k8s-pools", "on-demand")
    expect(placements.map((r) => [r.placement.pool, r.placement.purchaseOption])).toEqual([
      ["prod/h100-spot", "spot"],
      ["prod/h100-od", "on-demand"]
    ])
    const firstJob = await nthJobPod(1)
    await startPod(firstJob.pod)
    api.print(firstJob.pod, started(null))
    api.print(firstJob.pod, checkpoint(10))
    api.endPod(firstJob.pod, 75, { disruption: true })
    const secondJob = await nthJobPod(2)
    await startPod(secondJob.pod)
    api.print(secondJob.pod, started(10))
    api.print(secondJob.pod, completed(20))
    api.endPod(secondJob.pod, 0)
    const result = await outcome
    expect(result.status).toBe("completed")
    expect(result.attempts.map((a) => [a.placement.pool, a.outcome, a.reason])).toEqual([
      ["prod/h100-spot", "interrupted", "DisruptionTarget"],
      ["prod/h100-od", "completed", null]
    ])
    // What each Job asked of the cluster: the pool's capacity type, zone, instance type and GPU, and 8 GPUs per pod.
    const selectors = api.createdJobBodies.map((body) => {
      const job = new Job(body as ConstructorParameters<typeof Job>[0])
      job.validate()
      const pod = job.spec?.template.spec
      return { nodeSelector: pod?.nodeSelector, gpus: pod?.containers[0]?.resources?.limits?.["nvidia.com/gpu"] }
    })
    expect(selectors).toEqual([
      {
        nodeSelector: {
          "karpenter.sh/capacity-type": "spot",
          "topology.kubernetes.io/zone": "us-east-1a",
          "node.kubernetes.io/instance-type": "p5.48xlarge",
          "karpenter.k8s.aws/instance-gpu-name": "h100"
        },
        gpus: "8"
      },
      {
        nodeSelector: {
          "karpenter.sh/capacity-type": "on-demand",
          "topology.kubernetes.io/zone": "us-east-1a",
          "node.kubernetes.io/instance-type": "p5.48xlarge",
          "karpenter.k8s.aws/instance-gpu-name": "h100"
        },
        gpus: "8"
      }
    ])
  }, 60_000)

  it("a pod no node can take is a failed launch after the timeout: its Job is deleted and the job fails over to the next pool", async () => {
    // The environment's FRUGAL_K8S_UNSCHEDULABLE_SECONDS holds for the profile's clusters too.
    const { settings, outcome } = superviseOnPools("k8s-unschedulable", "frugal", { FRUGAL_K8S_UNSCHEDULABLE_SECONDS: "1" })
    expect(settings.clusters["prod"]?.settings.unschedulableTimeoutSeconds).toBe(1)
    const message = "0/12 nodes are available: 12 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are available"
    const firstJob = await nthJobPod(1)
    // The scheduler reports only after the timeout has first looked: the runner keeps looking until it does.
    await sleep(1500)
    api.unschedulablePod(firstJob.pod, message)
    const secondJob = await nthJobPod(2)
    expect(api.jobs.has(firstJob.job)).toBe(false)
    await startPod(secondJob.pod)
    api.print(secondJob.pod, started(null))
    api.print(secondJob.pod, completed(20))
    api.endPod(secondJob.pod, 0)
    const result = await outcome
    expect(result.status).toBe("completed")
    expect(result.attempts.map((a) => [a.placement.pool, a.outcome, a.reason, a.costUsd])).toEqual([
      ["prod/h100-spot", "provision-failed", "Unschedulable", 0],
      ["prod/h100-od", "completed", null, expect.any(Number)]
    ])
    expect(result.attempts[0]?.exitDetail).toContain("didn't match Pod's node affinity/selector")
    const log = readFileSync(join(dir, "logs", `${result.attempts[0]?.id ?? ""}.log`), "utf8")
    expect(log).toContain("[frugal] no node could take the pod in 1 s: 0/12 nodes are available")
    expect(api.jobs.size).toBe(0)
  }, 60_000)
})
