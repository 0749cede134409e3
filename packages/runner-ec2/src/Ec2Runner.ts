/**
 * The EC2 engine (`@aws-sdk/client-ec2`): each attempt is `RunInstances` of the placement's instance type in the
 * subnet of its AZ (in the placement's region, one client per region), as spot (one-time, terminate on interruption)
 * or on-demand, from an AMI or a launch template, with user data that runs the command (see UserData) and tags that
 * tie the instances to the job (`frugal:job`, `frugal:attempt`). The runner follows the instances with
 * `DescribeInstances`, reads the command's start from the `frugal:resumed-from` tags the script sets when the
 * command prints its `started` line, and how the attempt ended from the `frugal:exit-code` tag it sets before
 * powering off, or from the state reason (`Server.SpotInstanceTermination` is a spot reclaim, kept as the attempt's
 * reason). No instance outlives its attempt: an attempt that ends, fails or is cancelled has its instances
 * terminated, and closing the engine terminates any left.
 *
 * Capacity and quota errors (`InsufficientInstanceCapacity`, `VcpuLimitExceeded` …, at RunInstances or as the
 * state reason of an instance that never started) are `ProvisioningFailed`, so the supervisor fails over.
 * A supervisor restarted on the job adopts instances still running (`adopt`) instead of launching again.
 *
 * AWS calls go through `@frugal/pricing/aws`'s `awsCall` (throttling and 5xx retried with jittered backoff, the
 * abort signal passed on); `RunInstances` carries the attempt id as its client token, so a retried call never
 * launches twice.
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
import { Deferred, Effect, Layer, Queue, type Cause } from "effect"
import { appendFileSync, mkdirSync } from "node:fs"
import { dirname } from "node:path"
import {
  attemptHandle,
  type AttemptExit,
  type AttemptHandle,
  type AttemptRequest,
  exitFromStatus,
  logFileLines,
  type OrphanAttempt,
  processesPerNode,
  ProvisioningFailed,
  Runner,
  RunnerError
} from "@frugal/runner"
import { type AwsCallFailed, awsCall, awsClientOptions, AwsTimeouts } from "@frugal/pricing/aws/call"
import type { TrainerEvent } from "@frugal/trainer"
import type { Ec2RegionSettings, Ec2Settings } from "./Ec2Settings.ts"
import { invalidEnvironmentNames, userDataScript } from "./UserData.ts"

const RUNNER = "ec2"
const INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(_InstanceType))
const isInstanceType = (name: string): name is _InstanceType => INSTANCE_TYPES.has(name)
const ENDED = new Set(["shutting-down", "terminated", "stopping", "stopped"])
const tag = (instance: Instance, key: string): string | undefined => instance.Tags?.find((t) => t.Key === key)?.Value

/**
 * EC2's provisioning errors (RunInstances error codes, "Error codes for the Amazon EC2 API") and what each rules out
 * for a while: the pool (this type, zone and market) or, for the account's limits, the market in the whole region.
 */
export const PROVISIONING_ERRORS: Readonly<Record<string, "pool" | "region">> = {
  InsufficientInstanceCapacity: "pool",
  InsufficientHostCapacity: "pool",
  InsufficientCapacity: "pool",
  InsufficientReservedInstanceCapacity: "pool",
  InsufficientFreeAddressesInSubnet: "pool",
  SpotMaxPriceTooLow: "pool",
  Unsupported: "pool",
  MaxSpotInstanceCountExceeded: "region",
  InstanceLimitExceeded: "region",
  VcpuLimitExceeded: "region"
}

/** The provisioning error behind an error name (`InsufficientInstanceCapacity`, `Server.InsufficientInstanceCapacity`). */
export const provisioningCode = (name: string): string | null => {
  const code = name.replace(/^Server\./, "").split(" ")[0] ?? ""
  return PROVISIONING_ERRORS[code] === undefined ? null : code
}

/** How an attempt's instance ended; null while it is pending or running. */
export const instanceExit = (instance: Instance, cancelRequested: boolean): AttemptExit | null => {
  if (!ENDED.has(instance.State?.Name ?? "")) return null
  const reason = instance.StateReason?.Code ?? ""
  const message = instance.StateReason?.Message ?? ""
  const spot = reason.startsWith("Server.Spot")
  const code = tag(instance, "frugal:exit-code")
  if (code !== undefined && /^\d+$/.test(code)) {
    const exit = exitFromStatus(Number(code), null)
    if (cancelRequested && exit._tag === "Crashed") return { _tag: "Interrupted", resumable: false }
    return exit._tag === "Interrupted" ? { ...exit, reason: spot ? reason : "checkpointed (exit 75)" } : exit
  }
  const capacity = provisioningCode(reason)
  if (capacity !== null) {
    return { _tag: "ProvisionFailed", code: capacity, detail: message, scope: PROVISIONING_ERRORS[capacity] ?? "pool" }
  }
  if (spot) return { _tag: "Interrupted", resumable: false, reason }
  if (cancelRequested) return { _tag: "Interrupted", resumable: false }
  if (reason.startsWith("Server.")) return { _tag: "Lost", detail: `${reason}: ${message}` }
  return { _tag: "Crashed", code: null, signal: reason === "" ? null : reason }
}

/**
 * The command's `started` event, from the tags the user data sets the moment the command prints it (see UserData):
 * the step it resumed from (`none`: it found no checkpoint), its pid, device and precision. Null until then. This is
 * what lets the supervisor stop, at its start, a relaunch that found the checkpoint store emptied.
 */
export const startedEvent = (instance: Instance): TrainerEvent | null => {
  const from = tag(instance, "frugal:resumed-from")
  if (from === undefined || !/^(none|[0-9]{1,15})$/.test(from)) return null
  const resumedFromStep = from === "none" ? null : Number(from)
  const pid = tag(instance, "frugal:pid") ?? ""
  const word = (key: string) => {
    const value = tag(instance, key) ?? ""
    return /^[a-z0-9:]{1,32}$/.test(value) ? value : "unknown"
  }
  return {
    event: "started",
    time: new Date().toISOString(),
    step: resumedFromStep ?? 0,
    resumedFromStep,
    tokensSeen: 0,
    device: word("frugal:device"),
    precision: word("frugal:precision"),
    pid: /^[0-9]{1,10}$/.test(pid) ? Number(pid) : 0
  }
}

/**
 * The protocol events an ended instance reported through its result tags (see UserData): the newest durable
 * checkpoint, and the completion with its weights hash. No connection into an instance is opened, so this is how the
 * ledger learns how far an attempt got and with which weights it ended.
 */
export const resultEvents = (instance: Instance, checkpointUri: string): ReadonlyArray<TrainerEvent> => {
  const number = (key: string): number | null => {
    const value = tag(instance, key)
    return value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : null
  }
  const time = new Date().toISOString()
  const events: Array<TrainerEvent> = []
  const checkpointStep = number("frugal:checkpoint-step")
  if (checkpointStep !== null) {
    events.push({
      event: "checkpoint",
      time,
      step: checkpointStep,
      path: checkpointUri,
      bytes: number("frugal:checkpoint-bytes") ?? 0,
      blockingSeconds: 0,
      totalSeconds: 0
    })
  }
  const sha = tag(instance, "frugal:weights-sha256")
  const finalStep = number("frugal:final-step")
  if (sha !== undefined && /^[0-9a-f]{64}$/.test(sha) && finalStep !== null) {
    events.push({ event: "completed", time, step: finalStep, tokensSeen: number("frugal:tokens-seen") ?? 0, weightsSha256: sha })
  }
  return events
}

/** The settings of the placement's region, or why there are none. */
export const regionSettings = (settings: Ec2Settings, request: AttemptRequest): Ec2RegionSettings | string => {
  const region = settings.regions[request.placement.region]
  if (region === undefined) {
    return `no settings for region ${request.placement.region} (add it under aws.regions of the infrastructure profile)`
  }
  const zone = request.placement.availabilityZone
  if (zone !== null && region.subnets[zone] === undefined) {
    return `no subnet configured for ${zone} in ${request.placement.region} (aws.regions.${request.placement.region}.subnets)`
  }
  return region
}

/** The RunInstances request of an attempt (exported for `--dry-run` and wire tests). */
export const runInstancesInput = (settings: Ec2Settings, region: Ec2RegionSettings, request: AttemptRequest): RunInstancesCommandInput => {
  const { placement } = request
  const zone = placement.availabilityZone
  const subnet = zone === null ? Object.values(region.subnets)[0] : region.subnets[zone]
  const tags = [
    { Key: "Name", Value: `frugal ${request.jobId}` },
    { Key: "frugal:job", Value: request.jobId },
    { Key: "frugal:attempt", Value: request.attemptId }
  ]
  const { PYTHONPATH: _local, ...env } = request.launch.env
  const [program, ...rest] = request.launch.argv
  const nodes = placement.instanceCount
  const processes = processesPerNode(placement.acceleratorsPerInstance, request.launch.processesPerNode)
  const placementGroup = nodes > 1 ? region.placementGroup : null
  return {
    MinCount: placement.instanceCount,
    MaxCount: placement.instanceCount,
    ...(isInstanceType(placement.instanceType) ? { InstanceType: placement.instanceType } : {}),
    ...(region.imageId === null ? {} : { ImageId: region.imageId }),
    ...(region.launchTemplate === null
      ? {}
      : {
        LaunchTemplate: {
          ...(region.launchTemplate.startsWith("lt-") ? { LaunchTemplateId: region.launchTemplate } : { LaunchTemplateName: region.launchTemplate }),
          Version: region.launchTemplateVersion ?? "$Default"
        }
      }),
    ...(subnet === undefined ? {} : { SubnetId: subnet }),
    // The subnet fixes the AZ; a cluster placement group lives in one AZ, so the group name is all it needs.
    ...(placementGroup === null ? {} : { Placement: { GroupName: placementGroup } }),
    ...(region.securityGroupIds.length === 0 ? {} : { SecurityGroupIds: [...region.securityGroupIds] }),
    ...(region.keyName === null ? {} : { KeyName: region.keyName }),
    ...(region.instanceProfile === null
      ? {}
      : { IamInstanceProfile: region.instanceProfile.startsWith("arn:") ? { Arn: region.instanceProfile } : { Name: region.instanceProfile } }),
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
      checkpoints: settings.checkpoints,
      setupCommands: settings.setupCommands,
      checkpointEverySeconds: request.checkpointEverySeconds,
      multiNode: nodes > 1 ? { nodes, procsPerNode: processes, port: settings.rendezvousPort } : null,
      processesPerNode: processes,
      // This machine's torchrun wrapper (a path to its python) becomes the instance's.
      torchrunProgram: request.launch.torchrunProgram === undefined ? undefined : ["python3", "-m", "frugal_trainer.torchrun"]
    })).toString("base64"),
    TagSpecifications: [
      { ResourceType: "instance", Tags: tags },
      { ResourceType: "volume", Tags: tags }
    ],
    // Retries of the same attempt never launch twice.
    ClientToken: request.attemptId.slice(0, 64)
  }
}

const runnerError = (operation: string, attemptId: string) => (error: AwsCallFailed) =>
  new RunnerError({ runner: RUNNER, operation, attemptId, detail: `${error.errorName}: ${error.detail}` })

export const make = (settings: Ec2Settings, client: (region: string) => EC2Client, live: Map<string, string>) => {
  const describe = (region: string, ids: ReadonlyArray<string>, attemptId: string) =>
    Effect.map(
      Effect.mapError(
        awsCall({ service: "EC2", operation: "DescribeInstances", region }, (abortSignal) =>
          client(region).send(new DescribeInstancesCommand({ InstanceIds: [...ids] }), { abortSignal })),
        runnerError("DescribeInstances", attemptId)
      ),
      (out) => (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
    )

  const terminate = (region: string, ids: ReadonlyArray<string>, attemptId: string) =>
    ids.length === 0
      ? Effect.void
      : Effect.asVoid(Effect.mapError(
        awsCall({ service: "EC2", operation: "TerminateInstances", region }, (abortSignal) =>
          client(region).send(new TerminateInstancesCommand({ InstanceIds: [...ids] }), { abortSignal })),
        runnerError("TerminateInstances", attemptId)
      ))

  /** A handle that follows instances to their end (launched now, or adopted from a dead supervisor). */
  const follow = (request: AttemptRequest, ids: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const region = request.placement.region
      for (const id of ids) live.set(id, region)
      const events = yield* Queue.unbounded<TrainerEvent, Cause.Done>()
      const exited = yield* Deferred.make<AttemptExit>()
      let cancelRequested = false
      let started = false
      // Rank 0 (launch index 0) speaks for the attempt, as its stdout would.
      const leaderOf = (instances: ReadonlyArray<Instance>) => instances.find((instance) => instance.AmiLaunchIndex === 0) ?? instances[0]
      const offerStarted = (leader: Instance | undefined) => {
        const event = started || leader === undefined ? null : startedEvent(leader)
        if (event === null) return
        started = true
        Queue.offerUnsafe(events, event)
      }
      const watch = Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(settings.pollSeconds * 1000)
          const instances = yield* Effect.orElseSucceed(describe(region, ids, request.attemptId), () => [])
          offerStarted(leaderOf(instances))
          const ended = instances.map((instance) => instanceExit(instance, cancelRequested))
          // The attempt ends with its first instance: a multi-node job cannot go on without one of its nodes.
          const first = ended.find((exit) => exit !== null)
          if (first !== undefined && first !== null) {
            for (const instance of instances) {
              appendFileSync(request.logPath, `[ec2] ${instance.InstanceId ?? ""}: ${instance.State?.Name ?? ""} ${instance.StateReason?.Code ?? ""} ${instance.StateReason?.Message ?? ""}\n`)
            }
            yield* Effect.ignore(terminate(region, ids, request.attemptId))
            for (const id of ids) live.delete(id)
            const leader = leaderOf(instances)
            if (leader !== undefined) for (const event of resultEvents(leader, settings.checkpoints.uri)) Queue.offerUnsafe(events, event)
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
          yield* terminate(region, ids, request.attemptId)
          yield* Deferred.await(exited)
        })
      return attemptHandle(request, { externalId: ids.join(","), pid: null, events, exited, cancel })
    })

  const start = (request: AttemptRequest) =>
    Effect.gen(function*() {
      const fail = (detail: string) => new RunnerError({ runner: RUNNER, operation: "RunInstances", attemptId: request.attemptId, detail })
      if (!isInstanceType(request.placement.instanceType)) {
        return yield* fail(`${request.placement.instanceType} is not an EC2 instance type this SDK knows`)
      }
      const region = regionSettings(settings, request)
      if (typeof region === "string") return yield* fail(region)
      const badNames = invalidEnvironmentNames(request.launch.env)
      if (badNames.length > 0) return yield* fail(`environment names a shell cannot export: ${badNames.join(", ")}`)
      yield* Effect.sync(() => mkdirSync(dirname(request.logPath), { recursive: true }))
      const out = yield* awsCall(
        { service: "EC2", operation: "RunInstances", region: request.placement.region },
        (abortSignal) => client(request.placement.region).send(new RunInstancesCommand(runInstancesInput(settings, region, request)), { abortSignal })
      ).pipe(
        Effect.mapError((error): RunnerError | ProvisioningFailed => {
          const code = provisioningCode(error.errorName)
          return code === null
            ? runnerError("RunInstances", request.attemptId)(error)
            : new ProvisioningFailed({ runner: RUNNER, code, scope: PROVISIONING_ERRORS[code] ?? "pool", detail: error.detail })
        })
      )
      const ids = (out.Instances ?? []).flatMap((i) => (i.InstanceId === undefined ? [] : [i.InstanceId]))
      appendFileSync(request.logPath, `[frugal] launched ${ids.join(", ")} (${request.placement.instanceType}, ${request.placement.purchaseOption}, ${request.placement.availabilityZone ?? request.placement.region})\n`)
      if (ids.length > 1) {
        // The address every node discovers at boot (launch index 0), logged so an operator can follow the rendezvous.
        const node0 = (out.Instances ?? []).find((i) => i.AmiLaunchIndex === 0)
        appendFileSync(request.logPath, `[frugal] rendezvous on node 0 ${node0?.InstanceId ?? "?"} at ${node0?.PrivateIpAddress ?? "?"}:${settings.rendezvousPort}\n`)
      }
      return yield* follow(request, ids)
    })

  const instanceIds = (orphan: OrphanAttempt) => (orphan.externalId ?? "").split(",").filter((id) => /^i-[0-9a-f]+$/.test(id))

  return Runner.of({
    name: RUNNER,
    submit: (request) => Effect.acquireRelease(start(request), (handle: AttemptHandle) => Effect.ignore(handle.cancel())),
    adopt: (orphan, request) =>
      Effect.gen(function*() {
        const ids = instanceIds(orphan)
        if (ids.length === 0) return null
        const instances = yield* describe(request.placement.region, ids, orphan.attemptId)
        const ours = instances.filter((i) => tag(i, "frugal:attempt") === orphan.attemptId)
        if (ours.length !== ids.length || ours.some((i) => ENDED.has(i.State?.Name ?? ""))) return null
        yield* Effect.sync(() => {
          mkdirSync(dirname(request.logPath), { recursive: true })
          appendFileSync(request.logPath, `[frugal] adopted ${ids.join(", ")}: still running after the supervisor restarted\n`)
        })
        return yield* Effect.acquireRelease(follow(request, ids), (handle: AttemptHandle) => Effect.ignore(handle.cancel()))
      }),
    stopOrphan: (orphan: OrphanAttempt) =>
      Effect.gen(function*() {
        const ids = instanceIds(orphan)
        if (ids.length === 0) return false
        // The orphan's region is not in the ledger row's external id; ask each configured region for its instances.
        for (const region of Object.keys(settings.regions)) {
          const instances = yield* Effect.orElseSucceed(describe(region, ids, orphan.attemptId), () => [])
          const running = instances.filter((i) => !ENDED.has(i.State?.Name ?? "") && tag(i, "frugal:attempt") === orphan.attemptId)
          if (running.length === 0) continue
          yield* terminate(region, running.flatMap((i) => (i.InstanceId === undefined ? [] : [i.InstanceId])), orphan.attemptId)
          return true
        }
        return false
      }),
    logs: (attempt) => logFileLines(attempt, RUNNER)
  })
}

/**
 * The EC2 engine as a layer: one client per region (credentials and endpoint the standard way, so
 * `AWS_ENDPOINT_URL_EC2` reaches a loopback server in tests), created on first use and destroyed, after terminating
 * any instance still tracked, when the layer closes.
 */
export const layer = (settings: Ec2Settings): Layer.Layer<Runner> => Layer.effect(Runner, runtime(settings))

/** The engine's runtime in the caller's scope (what `Engine.runner` builds). */
export const runtime = (settings: Ec2Settings) =>
  Effect.gen(function*() {
    const timeouts = yield* AwsTimeouts
    const clients = new Map<string, EC2Client>()
    const client = (region: string) => {
      let existing = clients.get(region)
      if (existing === undefined) {
        // Retries are awsCall's (the SDK's own are off, so one backoff governs); connection and request time out.
        existing = new EC2Client({ region, ...awsClientOptions(timeouts) })
        clients.set(region, existing)
      }
      return existing
    }
    const live = new Map<string, string>()
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const byRegion = new Map<string, Array<string>>()
        for (const [id, region] of live) byRegion.set(region, [...(byRegion.get(region) ?? []), id])
        for (const [region, ids] of byRegion) {
          yield* Effect.ignore(Effect.tryPromise(() => client(region).send(new TerminateInstancesCommand({ InstanceIds: ids }))))
        }
        for (const existing of clients.values()) existing.destroy()
      })
    )
    return make(settings, client, live)
  })
