/**
 * The Kubernetes engine, through the official client (`@kubernetes/client-node`). Each attempt is one Job
 * (see Manifests). The runner watches the attempt's pods, follows the leading pod's log (pod 0 of an Indexed
 * Job) for protocol events, and decides how the attempt ended from the pod:
 * - a pod with the `DisruptionTarget` condition (spot reclamation, drain, pre-emption) or one deleted from
 *   under us → an interruption (resumable when the container exited 75 after its final checkpoint);
 * - exit 0 → completed; exit 75 → interrupted, resumable; any other exit → a crash, which the Job's
 *   podFailurePolicy does not retry and the supervisor counts against its crash budget.
 * When an attempt ends its Job is deleted, so the supervisor's next attempt (perhaps on-demand instead of
 * spot) is the only one running. The pod's Events go to the attempt's log.
 */
import { Deferred, Effect, Layer, Queue, type Cause } from "effect"
import { BatchV1Api, CoreV1Api, KubeConfig, Log, type V1Pod, Watch } from "@kubernetes/client-node"
import { appendFileSync, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { Writable } from "node:stream"
import {
  attemptHandle,
  type AttemptExit,
  type AttemptRequest,
  type CancelOptions,
  INTERRUPTED_EXIT_CODE,
  logFileLines,
  type OrphanAttempt,
  Runner,
  RunnerError
} from "@frugal/runner"
import { classifyEventLine, type TrainerEvent } from "@frugal/trainer"
import { attemptManifests, CONTAINER_NAME, jobName, type KubernetesSettings, LABEL_ATTEMPT } from "./Manifests.ts"

const RUNNER = "kubernetes"

const errorText = (cause: unknown): string => {
  if (cause instanceof Error) {
    return "body" in cause && typeof cause.body === "string" && cause.body !== "" ? `${cause.message}: ${cause.body}` : cause.message
  }
  return String(cause)
}

const statusCode = (cause: unknown): number | null =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "number" ? cause.code : null

/** Index of a pod in an Indexed Job; 0 for a plain Job's only pod. */
const podIndex = (pod: V1Pod): number =>
  Number(pod.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"] ?? "0")

const terminatedCode = (pod: V1Pod): number | null => {
  const status = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME)
  return status?.state?.terminated?.exitCode ?? null
}

const disrupted = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === "DisruptionTarget" && c.status === "True") ?? false

/** How the leading pod ended, or null while it runs. A disruption (spot reclaim, drain) keeps `DisruptionTarget` as its reason. */
export const podExit = (pod: V1Pod, deleted: boolean, cancelRequested: boolean): AttemptExit | null => {
  const code = terminatedCode(pod)
  const phase = pod.status?.phase
  const ended = deleted || phase === "Succeeded" || phase === "Failed" || code !== null
  if (!ended) return null
  if (code === 0) return { _tag: "Completed" }
  const reason = disrupted(pod) ? { reason: "DisruptionTarget" } : deleted && !cancelRequested ? { reason: "pod deleted" } : {}
  if (code === INTERRUPTED_EXIT_CODE) return { _tag: "Interrupted", resumable: true, ...reason }
  if (disrupted(pod) || deleted || cancelRequested) return { _tag: "Interrupted", resumable: false, ...reason }
  return { _tag: "Crashed", code, signal: null }
}

/** The scheduler's message when the pod cannot be placed on any node (PodScheduled=False, Unschedulable); else null. */
export const unschedulable = (pod: V1Pod): string | null => {
  const condition = pod.status?.conditions?.find((c) => c.type === "PodScheduled")
  return condition?.status === "False" && condition.reason === "Unschedulable" ? condition.message ?? "Unschedulable" : null
}

/** An attempt's log lines (the pod's log as the runner kept it). */
export const logs: Runner["Service"]["logs"] = (attempt) => logFileLines(attempt, RUNNER)

export interface KubernetesClients {
  readonly config: KubeConfig
  readonly batch: BatchV1Api
  readonly core: CoreV1Api
}

export const clientsFrom = (config: KubeConfig): KubernetesClients => ({
  config,
  batch: config.makeApiClient(BatchV1Api),
  core: config.makeApiClient(CoreV1Api)
})

export const make = (settings: KubernetesSettings, clients: () => KubernetesClients, graceSeconds = 300) => {
  const namespace = settings.namespace
  const call = <A>(operation: string, attemptId: string, run: () => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (cause) => new RunnerError({ runner: RUNNER, operation, attemptId, detail: errorText(cause) })
    })

  const deleteAttemptObjects = (name: string, attemptId: string, grace?: number, withService = true) =>
    Effect.gen(function*() {
      const { batch, core } = clients()
      yield* Effect.ignore(call("delete job", attemptId, () =>
        batch.deleteNamespacedJob({
          name,
          namespace,
          propagationPolicy: "Background",
          ...(grace === undefined ? {} : { gracePeriodSeconds: grace })
        })))
      if (withService) {
        yield* Effect.ignore(call("delete service", attemptId, () => core.deleteNamespacedService({ name, namespace })))
      }
    })

  const start = (request: AttemptRequest) =>
    Effect.gen(function*() {
      const { batch, core } = clients()
      const manifests = attemptManifests(request, settings)
      const name = jobName(request.attemptId)
      yield* Effect.try({
        try: () => mkdirSync(dirname(request.logPath), { recursive: true }),
        catch: (cause) => new RunnerError({ runner: RUNNER, operation: "prepare", attemptId: request.attemptId, detail: errorText(cause) })
      })
      const log = (line: string) => appendFileSync(request.logPath, `${line}\n`)

      const claimName = manifests.claim.metadata?.name ?? ""
      const existing = yield* Effect.result(call("read claim", request.attemptId, () =>
        core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace })))
      if (existing._tag === "Failure") {
        yield* call("create claim", request.attemptId, () =>
          core.createNamespacedPersistentVolumeClaim({ namespace, body: manifests.claim }))
      }
      const service = manifests.service
      if (service !== null) {
        yield* call("create service", request.attemptId, () => core.createNamespacedService({ namespace, body: service }))
      }
      yield* call("create job", request.attemptId, () => batch.createNamespacedJob({ namespace, body: manifests.job }))
      log(`[frugal] created Job ${namespace}/${name}`)
      return yield* follow(request, manifests.service !== null)
    })

  /** A handle that follows an attempt's Job to its end (created now, or adopted from a dead supervisor). */
  const follow = (request: AttemptRequest, withService: boolean) =>
    Effect.gen(function*() {
      const { core, config } = clients()
      const name = jobName(request.attemptId)
      const log = (line: string) => appendFileSync(request.logPath, `${line}\n`)
      const events = yield* Queue.unbounded<TrainerEvent, Cause.Done>()
      const exited = yield* Deferred.make<AttemptExit>()
      let cancelRequested = false
      let following: string | null = null
      let finishing = false
      let logDone: Promise<void> = Promise.resolve()
      const aborts: Array<AbortController> = []

      const followLog = (podName: string) => {
        following = podName
        let partial = ""
        const sink = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            const lines = (partial + chunk.toString("utf8")).split("\n")
            partial = lines.pop() ?? ""
            for (const line of lines) {
              const sorted = classifyEventLine(line)
              if (sorted._tag === "Event") Queue.offerUnsafe(events, sorted.event)
              else log(line)
            }
            callback()
          }
        })
        logDone = new Promise<void>((resolve) => {
          sink.on("finish", () => resolve())
          new Log(config)
            .log(namespace, podName, CONTAINER_NAME, sink, () => resolve(), { follow: true })
            .then((abort) => aborts.push(abort), () => resolve())
        })
      }

      const podEvents = (podName: string) =>
        call("list events", request.attemptId, () =>
          core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${podName}` })).pipe(
            Effect.map((list) => {
              for (const event of list.items) log(`[kubernetes] ${event.type ?? ""} ${event.reason ?? ""}: ${event.message ?? ""}`)
            }),
            Effect.ignore
          )

      const finish = (pod: V1Pod, exit: AttemptExit) =>
        Effect.gen(function*() {
          if (yield* Deferred.isDone(exited)) return
          // The log stream ends with the container; wait for it (bounded) so no protocol line is lost.
          yield* Effect.promise(() => Promise.race([logDone, new Promise((r) => setTimeout(r, 5000))]))
          yield* podEvents(pod.metadata?.name ?? "")
          if (disrupted(pod)) log(`[frugal] pod ${pod.metadata?.name ?? ""} was disrupted (DisruptionTarget)`)
          Queue.endUnsafe(events)
          yield* deleteAttemptObjects(name, request.attemptId, undefined, withService)
          yield* Deferred.succeed(exited, exit)
        })

      // A pod no node can take (no capacity of that type, zone or market) is a failed launch once it has waited long
      // enough; a pod the scheduler has not yet reported on is looked at again until it is placed or reported.
      let scheduled = false
      let unschedulableMessage: string | null = null
      yield* Effect.forkScoped(Effect.gen(function*() {
        yield* Effect.sleep(settings.unschedulableTimeoutSeconds * 1000)
        while (!scheduled && !finishing && unschedulableMessage === null) {
          yield* Effect.sleep(Math.min(5, settings.unschedulableTimeoutSeconds) * 1000)
        }
        if (scheduled || unschedulableMessage === null || finishing) return
        finishing = true
        log(`[frugal] no node could take the pod in ${settings.unschedulableTimeoutSeconds} s: ${unschedulableMessage}`)
        Queue.endUnsafe(events)
        yield* deleteAttemptObjects(name, request.attemptId, 0, withService)
        yield* Deferred.succeed(exited, { _tag: "ProvisionFailed", code: "Unschedulable", detail: unschedulableMessage, scope: "pool" })
      }))

      const onPod = (phase: string, pod: V1Pod) => {
        if (podIndex(pod) !== 0) return
        const podName = pod.metadata?.name
        if (podName === undefined) return
        const running = pod.status?.phase === "Running" || terminatedCode(pod) !== null
        if (pod.spec?.nodeName !== undefined || running) scheduled = true
        else unschedulableMessage = unschedulable(pod) ?? unschedulableMessage
        if (running && following !== podName) followLog(podName)
        const exit = podExit(pod, phase === "DELETED", cancelRequested)
        if (exit !== null && !finishing) {
          finishing = true
          Effect.runFork(finish(pod, exit))
        }
      }

      const watchAbort = yield* call("watch pods", request.attemptId, () =>
        new Watch(config).watch(
          `/api/v1/namespaces/${namespace}/pods`,
          { labelSelector: `${LABEL_ATTEMPT}=${name}` },
          (phase, object: V1Pod) => onPod(phase, object),
          (error: unknown) => {
            if (error !== null && error !== undefined) log(`[frugal] pod watch ended: ${errorText(error)}`)
          }
        ))
      aborts.push(watchAbort)
      yield* Effect.addFinalizer(() => Effect.sync(() => aborts.forEach((abort) => abort.abort())))

      const cancel = (options?: CancelOptions): Effect.Effect<void, RunnerError> =>
        Effect.gen(function*() {
          if (yield* Deferred.isDone(exited)) return
          cancelRequested = true
          const grace = options?.graceSeconds ?? graceSeconds
          yield* deleteAttemptObjects(name, request.attemptId, Math.max(0, grace), withService)
          const ended = yield* Deferred.await(exited).pipe(Effect.timeoutOption((grace + 30) * 1000))
          if (ended._tag === "None") {
            Queue.endUnsafe(events)
            yield* Deferred.succeed(exited, { _tag: "Interrupted", resumable: false })
          }
        })

      return attemptHandle(request, { externalId: `${namespace}/${name}`, pid: null, events, exited, cancel })
    })

  return Runner.of({
    name: RUNNER,
    submit: (request) => Effect.acquireRelease(start(request), (handle) => Effect.ignore(handle.cancel())),
    adopt: (orphan, request) =>
      Effect.gen(function*() {
        const name = jobName(orphan.attemptId)
        const { batch } = clients()
        const found = yield* Effect.result(call("read job", orphan.attemptId, () => batch.readNamespacedJob({ name, namespace })))
        if (found._tag === "Failure") {
          if (statusCode(found.failure) === 404 || /404|not found/i.test(found.failure.detail)) return null
          return yield* found.failure
        }
        const status = found.success.status
        if ((status?.succeeded ?? 0) > 0 || (status?.failed ?? 0) > 0 || status?.completionTime !== undefined) return null
        yield* Effect.try({
          try: () => mkdirSync(dirname(request.logPath), { recursive: true }),
          catch: (cause) => new RunnerError({ runner: RUNNER, operation: "prepare", attemptId: request.attemptId, detail: errorText(cause) })
        })
        appendFileSync(request.logPath, `[frugal] adopted Job ${namespace}/${name} after the supervisor restarted\n`)
        return yield* Effect.acquireRelease(
          follow(request, request.placement.instanceCount > 1),
          (handle) => Effect.ignore(handle.cancel())
        )
      }),
    stopOrphan: (orphan: OrphanAttempt, options?: CancelOptions) =>
      Effect.gen(function*() {
        const name = jobName(orphan.attemptId)
        const { batch } = clients()
        const found = yield* Effect.result(call("read job", orphan.attemptId, () => batch.readNamespacedJob({ name, namespace })))
        if (found._tag === "Failure") {
          if (statusCode(found.failure) === 404 || /404|not found/i.test(found.failure.detail)) return false
          return yield* found.failure
        }
        yield* deleteAttemptObjects(name, orphan.attemptId, options?.graceSeconds ?? graceSeconds)
        return true
      }),
    logs

  })
}

/**
 * The Kubernetes engine as a layer; the kubeconfig is read on first use, so `--dry-run` needs no cluster.
 * `config` overrides the default kubeconfig (tests point it at a loopback API server).
 */
export const layer = (settings: KubernetesSettings, config?: KubeConfig, graceSeconds?: number): Layer.Layer<Runner> =>
  Layer.sync(Runner, () => {
    let cached: KubernetesClients | undefined
    const clients = () => {
      if (cached === undefined) {
        const resolved = config ?? new KubeConfig()
        if (config === undefined) resolved.loadFromDefault()
        cached = clientsFrom(resolved)
      }
      return cached
    }
    return make(settings, clients, graceSeconds ?? settings.terminationGracePeriodSeconds)
  })
