/**
 * The EC2 engine (`@aws-sdk/client-ec2`): each attempt is `RunInstances` of the placement's instance type in
 * the subnet of its AZ, as spot (one-time, terminate on interruption) or on-demand, from an AMI or a launch
 * template, with user data that runs the command (see UserData) and tags that tie the instances to the job
 * (`frugal:job`, `frugal:attempt`). The runner follows the instances with `DescribeInstances` and reads how
 * the attempt ended from the `frugal:exit-code` tag the script sets before powering off, or from the state
 * reason (`Server.SpotInstanceTermination` is a spot reclaim). No instance outlives its attempt: an attempt
 * that ends, fails or is cancelled has its instances terminated, and closing the engine terminates any left.
 *
 * A multi-node attempt is one RunInstances call for all N nodes (optionally in a cluster placement group); each
 * node runs torchrun and meets the others at node 0 (see Rendezvous).
 *
 * Progress events are not streamed from the instance (no inbound connection is opened to it): the instance's
 * `/var/log/frugal-attempt.log` and the checkpoint store hold them.
 */
import {
  _InstanceType,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  type RunInstancesCommandInput,
  RunInstancesCommand,
  TerminateInstancesCommand
} from "@aws-sdk/client-ec2"
import { Deferred, Effect, Layer, Queue, Stream, type Cause } from "effect"
import { appendFileSync, createReadStream, existsSync, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { createInterface } from "node:readline"
import {
  type AttemptExit,
  type AttemptHandle,
  type AttemptRequest,
  exitFromStatus,
  type OrphanAttempt,
  Runner,
  RunnerError
} from "@frugal/runner"
import type { TrainerEvent } from "@frugal/trainer"
import { DEFAULT_RENDEZVOUS_PORT } from "./Rendezvous.ts"
import { userDataScript } from "./UserData.ts"

export interface Ec2Settings {
  readonly region: string
  /** AZ ID (`use1-az4`) → subnet id. */
  readonly subnets: Readonly<Record<string, string>>
  readonly imageId: string | null
  /** Launch template id (`lt-…`) or name; its version defaults to `$Default`. */
  readonly launchTemplate: string | null
  readonly launchTemplateVersion: string | null
  /** Instance profile ARN or name, giving the instance its S3/EFS and ec2:CreateTags rights. */
  readonly instanceProfile: string | null
  readonly securityGroupIds: ReadonlyArray<string>
  readonly keyName: string | null
  /** `s3://bucket/prefix` or `efs://fs-id/path`. */
  readonly checkpointUri: string
  readonly setupCommands: ReadonlyArray<string>
  /** Seconds between DescribeInstances calls (default 15). */
  readonly pollSeconds: number
  /**
   * An existing placement group (strategy `cluster`) that multi-node attempts launch into, for the low-latency
   * network between their nodes; single-node attempts ignore it.
   */
  readonly placementGroup?: string | null
  /** torchrun c10d rendezvous port on node 0 of a multi-node attempt (default 29400). */
  readonly rendezvousPort?: number
}

const RUNNER = "ec2"
const INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(_InstanceType))
const isInstanceType = (name: string): name is _InstanceType => INSTANCE_TYPES.has(name)
const errorText = (cause: unknown): string => (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))
const ENDED = new Set(["shutting-down", "terminated", "stopping", "stopped"])
const tag = (instance: Instance, key: string): string | undefined => instance.Tags?.find((t) => t.Key === key)?.Value

/** How an attempt's instance ended; null while it is pending or running. */
export const instanceExit = (instance: Instance, cancelRequested: boolean): AttemptExit | null => {
  if (!ENDED.has(instance.State?.Name ?? "")) return null
  const code = tag(instance, "frugal:exit-code")
  if (code !== undefined && /^\d+$/.test(code)) {
    const exit = exitFromStatus(Number(code), null)
    return cancelRequested && exit._tag === "Crashed" ? { _tag: "Interrupted", resumable: false } : exit
  }
  const reason = instance.StateReason?.Code ?? ""
  if (reason.startsWith("Server.Spot") || cancelRequested) return { _tag: "Interrupted", resumable: false }
  if (reason.startsWith("Server.")) return { _tag: "Lost", detail: `${reason}: ${instance.StateReason?.Message ?? ""}` }
  return { _tag: "Crashed", code: null, signal: reason === "" ? null : reason }
}

/** The RunInstances request of an attempt (exported for `--dry-run` and wire tests). */
export const runInstancesInput = (settings: Ec2Settings, request: AttemptRequest): RunInstancesCommandInput => {
  const { placement } = request
  const zone = placement.availabilityZone
  const subnet = zone === null ? Object.values(settings.subnets)[0] : settings.subnets[zone]
  const tags = [
    { Key: "Name", Value: `frugal ${request.jobId}` },
    { Key: "frugal:job", Value: request.jobId },
    { Key: "frugal:attempt", Value: request.attemptId }
  ]
  const { PYTHONPATH: _local, ...env } = request.launch.env
  const [program, ...rest] = request.launch.argv
  const nodes = placement.instanceCount
  const placementGroup = nodes > 1 ? (settings.placementGroup ?? null) : null
  return {
    MinCount: placement.instanceCount,
    MaxCount: placement.instanceCount,
    ...(isInstanceType(placement.instanceType) ? { InstanceType: placement.instanceType } : {}),
    ...(settings.imageId === null ? {} : { ImageId: settings.imageId }),
    ...(settings.launchTemplate === null
      ? {}
      : {
        LaunchTemplate: {
          ...(settings.launchTemplate.startsWith("lt-")
            ? { LaunchTemplateId: settings.launchTemplate }
            : { LaunchTemplateName: settings.launchTemplate }),
          Version: settings.launchTemplateVersion ?? "$Default"
        }
      }),
    ...(subnet === undefined ? {} : { SubnetId: subnet }),
    // The subnet fixes the AZ; a cluster placement group lives in one AZ, so the group name is all it needs.
    ...(placementGroup === null ? {} : { Placement: { GroupName: placementGroup } }),
    ...(settings.securityGroupIds.length === 0 ? {} : { SecurityGroupIds: [...settings.securityGroupIds] }),
    ...(settings.keyName === null ? {} : { KeyName: settings.keyName }),
    ...(settings.instanceProfile === null
      ? {}
      : { IamInstanceProfile: settings.instanceProfile.startsWith("arn:") ? { Arn: settings.instanceProfile } : { Name: settings.instanceProfile } }),
    ...(placement.purchaseOption === "spot"
      ? { InstanceMarketOptions: { MarketType: "spot", SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" } } }
      : {}),
    // Powering off at the end of the script terminates the instance: nothing to clean up, nothing billed.
    InstanceInitiatedShutdownBehavior: "terminate",
    MetadataOptions: { HttpTokens: "required", HttpEndpoint: "enabled", InstanceMetadataTags: "disabled" },
    UserData: Buffer.from(userDataScript({
      jobId: request.jobId,
      attemptId: request.attemptId,
      // The interpreter path on this machine means nothing on the AMI.
      argv: [/^\/.*\/python3?(\.\d+)?$/.test(program) ? "python3" : program, ...rest],
      env,
      checkpointUri: settings.checkpointUri,
      setupCommands: settings.setupCommands,
      checkpointEverySeconds: request.checkpointEverySeconds,
      multiNode: nodes > 1
        ? { nodes, procsPerNode: placement.acceleratorsPerInstance, port: settings.rendezvousPort ?? DEFAULT_RENDEZVOUS_PORT }
        : null
    })).toString("base64"),
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags }
    ],
    // Retries of the same attempt never launch twice.
    ClientToken: request.attemptId.slice(0, 64)
  }
}

export const make = (settings: Ec2Settings, client: () => EC2Client, live: Set<string>) => {
  const send = <A>(operation: string, attemptId: string, run: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (cause) => new RunnerError({ runner: RUNNER, operation, attemptId, detail: errorText(cause) })
    })

  const describe = (ids: ReadonlyArray<string>, attemptId: string) =>
    Effect.map(
      send("DescribeInstances", attemptId, (abortSignal) =>
        client().send(new DescribeInstancesCommand({ InstanceIds: [...ids] }), { abortSignal })),
      (out) => (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
    )

  const terminate = (ids: ReadonlyArray<string>, attemptId: string) =>
    ids.length === 0
      ? Effect.void
      : Effect.asVoid(send("TerminateInstances", attemptId, (abortSignal) =>
        client().send(new TerminateInstancesCommand({ InstanceIds: [...ids] }), { abortSignal })))

  const start = (request: AttemptRequest) =>
    Effect.gen(function*() {
      const zone = request.placement.availabilityZone
      if (!isInstanceType(request.placement.instanceType)) {
        return yield* new RunnerError({
          runner: RUNNER,
          operation: "RunInstances",
          attemptId: request.attemptId,
          detail: `${request.placement.instanceType} is not an EC2 instance type this SDK knows`
        })
      }
      if (zone !== null && settings.subnets[zone] === undefined) {
        return yield* new RunnerError({
          runner: RUNNER,
          operation: "RunInstances",
          attemptId: request.attemptId,
          detail: `no subnet configured for ${zone} (FRUGAL_EC2_SUBNETS=${zone}=subnet-…)`
        })
      }
      yield* Effect.sync(() => mkdirSync(dirname(request.logPath), { recursive: true }))
      const out = yield* send("RunInstances", request.attemptId, (abortSignal) =>
        client().send(new RunInstancesCommand(runInstancesInput(settings, request)), { abortSignal }))
      const ids = (out.Instances ?? []).flatMap((i) => (i.InstanceId === undefined ? [] : [i.InstanceId]))
      for (const id of ids) live.add(id)
      appendFileSync(request.logPath, `[frugal] launched ${ids.join(", ")} (${request.placement.instanceType}, ${request.placement.purchaseOption})\n`)
      if (ids.length > 1) {
        // The address every node discovers at boot (launch index 0), logged so an operator can follow the rendezvous.
        const node0 = (out.Instances ?? []).find((i) => i.AmiLaunchIndex === 0)
        appendFileSync(
          request.logPath,
          `[frugal] rendezvous on node 0 ${node0?.InstanceId ?? "?"} at ${node0?.PrivateIpAddress ?? "?"}:${settings.rendezvousPort ?? DEFAULT_RENDEZVOUS_PORT}\n`
        )
      }

      const events = yield* Queue.unbounded<TrainerEvent, Cause.Done>()
      const exited = yield* Deferred.make<AttemptExit>()
      let cancelRequested = false

      const watch = Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(settings.pollSeconds * 1000)
          const instances = yield* Effect.orElseSucceed(describe(ids, request.attemptId), () => [])
          const ended = instances.map((instance) => instanceExit(instance, cancelRequested))
          // The attempt ends with its first instance: a multi-node job cannot go on without one of its nodes.
          const first = ended.find((exit) => exit !== null)
          if (first !== undefined && first !== null) {
            for (const instance of instances) {
              appendFileSync(request.logPath, `[ec2] ${instance.InstanceId ?? ""}: ${instance.State?.Name ?? ""} ${instance.StateReason?.Code ?? ""} ${instance.StateReason?.Message ?? ""}\n`)
            }
            yield* Effect.ignore(terminate(ids, request.attemptId))
            for (const id of ids) live.delete(id)
            Queue.endUnsafe(events)
            return yield* Deferred.succeed(exited, first)
          }
        }
      })
      yield* Effect.forkScoped(watch)

      const cancel = () =>
        Effect.gen(function*() {
          if (yield* Deferred.isDone(exited)) return
          cancelRequested = true
          yield* terminate(ids, request.attemptId)
          yield* Deferred.await(exited)
        })

      const handle: AttemptHandle = {
        attemptId: request.attemptId,
        externalId: ids.join(","),
        pid: null,
        logPath: request.logPath,
        events: Stream.fromQueue(events),
        exit: Deferred.await(exited),
        cancel
      }
      return handle
    })

  return Runner.of({
    name: RUNNER,
    submit: (request) => Effect.acquireRelease(start(request), (handle) => Effect.ignore(handle.cancel())),
    stopOrphan: (orphan: OrphanAttempt) =>
      Effect.gen(function*() {
        const ids = (orphan.externalId ?? "").split(",").filter((id) => /^i-[0-9a-f]+$/.test(id))
        if (ids.length === 0) return false
        const instances = yield* describe(ids, orphan.attemptId)
        const running = instances.filter((i) => !ENDED.has(i.State?.Name ?? "") && tag(i, "frugal:attempt") === orphan.attemptId)
        yield* terminate(running.flatMap((i) => (i.InstanceId === undefined ? [] : [i.InstanceId])), orphan.attemptId)
        return running.length > 0
      }),
    logs: (attempt) =>
      attempt.logPath === null || !existsSync(attempt.logPath)
        ? Stream.empty
        : Stream.fromAsyncIterable(
          createInterface({ input: createReadStream(attempt.logPath), crlfDelay: Infinity }),
          (cause) => new RunnerError({ runner: RUNNER, operation: "logs", attemptId: attempt.attemptId, detail: errorText(cause) })
        )
  })
}

/**
 * The EC2 engine as a layer: one client for the region (credentials and endpoint the standard way, so
 * `AWS_ENDPOINT_URL_EC2` reaches a loopback server in tests), created on first use and destroyed, after
 * terminating any instance still tracked, when the layer closes.
 */
export const layer = (settings: Ec2Settings): Layer.Layer<Runner> =>
  Layer.effect(
    Runner,
    Effect.gen(function*() {
      let cached: EC2Client | undefined
      const client = () => (cached ??= new EC2Client({ region: settings.region }))
      const live = new Set<string>()
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          if (live.size > 0) {
            yield* Effect.ignore(Effect.tryPromise(() => client().send(new TerminateInstancesCommand({ InstanceIds: [...live] }))))
          }
          cached?.destroy()
        })
      )
      return make(settings, client, live)
    })
  )
