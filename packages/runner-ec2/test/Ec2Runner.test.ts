/**
 * The EC2 engine with the real `@aws-sdk/client-ec2` against a loopback server in the EC2 query protocol that
 * keeps instance states: RunInstances parameters as they cross the wire (spot market options, the AZ's subnet,
 * user data decoded, tags), and no instance left running whether the attempt completes, crashes, is reclaimed
 * or is cancelled.
 */
import { Effect, Fiber, Layer, Stream } from "effect"
import { spawnSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type AttemptExit, type AttemptRequest, Runner } from "@frugal/runner"
import type { TrainerEvent } from "@frugal/trainer"
import { type Ec2RegionSettings, Ec2Runner, type Ec2Settings } from "@frugal/runner-ec2"
import { ec2QueryHandler, type Ec2Params } from "../../../test/support/aws/Ec2Query.ts"
import { type LoopbackServer, startLoopbackServer } from "../../../test/support/aws/LoopbackServer.ts"

interface FakeInstance {
  state: "pending" | "running" | "shutting-down" | "terminated"
  reason: { code: string; message: string } | null
  tags: Map<string, string>
  launchIndex: number
  privateIp: string
}

const instances = new Map<string, FakeInstance>()
let counter = 0
const CODES = { pending: 0, running: 16, "shutting-down": 32, terminated: 48 }

const tagsOf = (params: Ec2Params, spec: number) => {
  const tags = new Map<string, string>()
  for (let t = 1; params.get(`TagSpecification.${spec}.Tag.${t}.Key`) !== undefined; t++) {
    tags.set(params.get(`TagSpecification.${spec}.Tag.${t}.Key`) ?? "", params.get(`TagSpecification.${spec}.Tag.${t}.Value`) ?? "")
  }
  return tags
}

const describeItem = (id: string, instance: FakeInstance) => ({
  instanceId: id,
  amiLaunchIndex: instance.launchIndex,
  privateIpAddress: instance.privateIp,
  instanceState: { code: CODES[instance.state], name: instance.state },
  ...(instance.reason === null ? {} : { stateReason: instance.reason }),
  tagSet: [...instance.tags].map(([key, value]) => ({ key, value }))
})

const handler = ec2QueryHandler({
  RunInstances: (params) => {
    const count = Number(params.get("MinCount") ?? "1")
    const ids = Array.from({ length: count }, () => `i-${(++counter).toString(16).padStart(17, "0")}`)
    ids.forEach((id, launchIndex) =>
      instances.set(id, { state: "pending", reason: null, tags: tagsOf(params, 1), launchIndex, privateIp: `10.0.${counter % 250}.${10 + launchIndex}` })
    )
    return { reservationId: "r-1", ownerId: "123456789012", instancesSet: ids.map((id) => describeItem(id, instances.get(id) as FakeInstance)) }
  },
  DescribeInstances: (params) => {
    const ids = params.list("InstanceId")
    const items = ids.flatMap((id) => {
      const instance = instances.get(id)
      if (instance === undefined) return []
      // A pending instance is running by the next look; one shutting down is gone by the next.
      const shown = describeItem(id, instance)
      if (instance.state === "pending") instance.state = "running"
      if (instance.state === "shutting-down") instance.state = "terminated"
      return [shown]
    })
    return { reservationSet: [{ reservationId: "r-1", instancesSet: items }] }
  },
  TerminateInstances: (params) => ({
    instancesSet: params.list("InstanceId").map((id) => {
      const instance = instances.get(id)
      const previous = instance?.state ?? "terminated"
      if (instance !== undefined && instance.state !== "terminated") {
        instance.state = "shutting-down"
        instance.reason ??= { code: "Client.UserInitiatedShutdown", message: "User initiated shutdown" }
      }
      return { instanceId: id, currentState: { code: 32, name: "shutting-down" }, previousState: { code: CODES[previous], name: previous } }
    })
  })
})

let server: LoopbackServer
let dir: string
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  server = await startLoopbackServer(handler)
  dir = mkdtempSync(join(tmpdir(), "frugal-ec2-"))
  const env = { AWS_ENDPOINT_URL_EC2: server.url, AWS_ACCESS_KEY_ID: "AKIDLOOPBACK", AWS_SECRET_ACCESS_KEY: "loopback", AWS_MAX_ATTEMPTS: "1" }
  for (const [key, value] of Object.entries(env)) {
    saved[key] = process.env[key]
    process.env[key] = value
  }
})
afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

const region: Ec2RegionSettings = {
  subnets: { "use1-az4": "subnet-0aaa", "use1-az6": "subnet-0bbb" },
  imageId: "ami-0123456789abcdef0",
  launchTemplate: null,
  launchTemplateVersion: null,
  instanceProfile: "frugal-trainer",
  securityGroupIds: ["sg-0123"],
  keyName: null,
  placementGroup: null
}
const settings: Ec2Settings = {
  regions: { "us-east-1": region },
  checkpoints: { uri: "s3://acme-checkpoints/frugal", region: "us-east-1", kmsKeyId: null },
  setupCommands: ["git clone --depth 1 https://example.invalid/acme/train.git /opt/train"],
  pollSeconds: 0.05,
  rendezvousPort: 29400
}
/** The settings with the region's placement group set. */
const withPlacementGroup = (base: Ec2Settings, group: string): Ec2Settings => ({ ...base, regions: { "us-east-1": { ...region, placementGroup: group } } })

const request = (attemptId: string, purchaseOption: "spot" | "on-demand" = "spot", instanceCount = 1): AttemptRequest => ({
  jobId: "ec2-job",
  attemptId,
  placement: {
    instanceType: "p5.48xlarge",
    region: "us-east-1",
    availabilityZone: "use1-az6",
    purchaseOption,
    hourlyPriceUsd: 40,
    instanceCount,
    accelerator: "H100",
    acceleratorsPerInstance: 8,
    interruptionsPerHour: 0.05
  },
  launch: {
    argv: ["/usr/bin/python3", "-m", "frugal_trainer", "--tag", "a; rm -rf $(pwd)"],
    env: { PYTHONPATH: "/home/me/frugal", HF_HOME: "/cache" },
    workdir: dir,
    checkpointDir: join(dir, "checkpoints")
  },
  checkpointEverySeconds: 900,
  logPath: join(dir, "logs", `${attemptId}.log`)
})

/** Submits an attempt, lets `drive` play the instance's life, and returns how the attempt ended. */
const attempt = (
  req: AttemptRequest,
  drive: (ids: ReadonlyArray<string>, cancel: () => Promise<void>) => Promise<void>,
  engine: Ec2Settings = settings
) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const runner = yield* Runner
      const handle = yield* runner.submit(req)
      const ids = handle.externalId.split(",")
      yield* Effect.promise(() => drive(ids, () => Effect.runPromise(Effect.ignore(handle.cancel()))))
      return { exit: yield* handle.exit, ids }
    })).pipe(Effect.provide(Ec2Runner.layer(engine) satisfies Layer.Layer<Runner>))
  )

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
const finish = (id: string, options: { exitCode?: number; reason?: { code: string; message: string } }) => {
  const instance = instances.get(id)
  if (instance === undefined) throw new Error(`no instance ${id}`)
  if (options.exitCode !== undefined) instance.tags.set("frugal:exit-code", String(options.exitCode))
  instance.reason = options.reason ?? { code: "Client.InstanceInitiatedShutdown", message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown" }
  instance.state = "terminated"
}
const allTerminated = (ids: ReadonlyArray<string>) => ids.map((id) => instances.get(id)?.state)

describe("EC2 engine against a loopback EC2 query server", () => {
  it("sends RunInstances with spot market options, the AZ's subnet, tags and user data that runs the command", async () => {
    const { exit, ids } = await attempt(request("ec2-job-1"), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 0 })
    })
    expect(exit).toEqual<AttemptExit>({ _tag: "Completed" })
    const run = server.requests.map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "RunInstances")
    expect(run?.get("InstanceType")).toBe("p5.48xlarge")
    expect(run?.get("ImageId")).toBe("ami-0123456789abcdef0")
    expect(run?.get("SubnetId")).toBe("subnet-0bbb")
    expect(run?.get("InstanceMarketOptions.MarketType")).toBe("spot")
    expect(run?.get("InstanceMarketOptions.SpotOptions.SpotInstanceType")).toBe("one-time")
    expect(run?.get("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior")).toBe("terminate")
    expect(run?.get("InstanceInitiatedShutdownBehavior")).toBe("terminate")
    expect(run?.get("IamInstanceProfile.Name")).toBe("frugal-trainer")
    expect(run?.get("MetadataOptions.HttpTokens")).toBe("required")
    expect(run?.get("ClientToken")).toBe("ec2-job-1")
    expect(run?.get("TagSpecification.1.ResourceType")).toBe("instance")
    expect(run?.get("TagSpecification.1.Tag.2.Key")).toBe("frugal:job")
    expect(run?.get("TagSpecification.1.Tag.2.Value")).toBe("ec2-job")
    expect(run?.get("TagSpecification.1.Tag.3.Value")).toBe("ec2-job-1")
    const userData = Buffer.from(run?.get("UserData") ?? "", "base64").toString("utf8")
    expect(userData).toContain("export FRUGAL_CHECKPOINT_DIR='/var/lib/frugal/checkpoints'")
    expect(userData).toContain("aws s3 sync --only-show-errors --region 'us-east-1' 's3://acme-checkpoints/frugal/ec2-job' '/var/lib/frugal/checkpoints'")
    expect(userData).toContain("export FRUGAL_IMDS_POLL='1'")
    expect(userData).toContain("export FRUGAL_CHECKPOINT_EVERY_SECONDS='900'")
    expect(userData).toContain("'python3' '-m' 'frugal_trainer' '--tag' 'a; rm -rf $(pwd)' &")
    expect(userData).not.toContain("PYTHONPATH")
    expect(userData).toContain("eval 'git clone --depth 1 https://example.invalid/acme/train.git /opt/train'")
    expect(allTerminated(ids)).toEqual(["terminated"])
  })

  it("launches on-demand without market options", async () => {
    const before = server.requests.length
    await attempt(request("ec2-job-od", "on-demand"), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 0 })
    })
    const run = server.requests.slice(before).map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "RunInstances")
    expect(run?.get("InstanceMarketOptions.MarketType")).toBeNull()
    expect(run?.get("SubnetId")).toBe("subnet-0bbb")
  })

  it("terminates the instance when the attempt is cancelled", async () => {
    const before = server.requests.length
    const { exit, ids } = await attempt(request("ec2-job-2"), async (_launched, cancel) => {
      await sleep(100)
      await cancel()
    })
    expect(exit).toEqual<AttemptExit>({ _tag: "Interrupted", resumable: false })
    const terminate = server.requests.slice(before).map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "TerminateInstances")
    expect(terminate?.get("InstanceId.1")).toBe(ids[0])
    expect(allTerminated(ids)).toEqual(["terminated"])
  })

  it("reads a spot reclaim and the trainer's exit codes, leaving no instance running", async () => {
    const reclaimed = await attempt(request("ec2-job-3"), async (launched) => {
      await sleep(100)
      for (const id of launched) {
        finish(id, { reason: { code: "Server.SpotInstanceTermination", message: "Server.SpotInstanceTermination: Spot instance termination" } })
      }
    })
    expect(reclaimed.exit).toEqual<AttemptExit>({ _tag: "Interrupted", resumable: false, reason: "Server.SpotInstanceTermination" })
    const checkpointed = await attempt(request("ec2-job-4"), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 75, reason: { code: "Server.SpotInstanceTermination", message: "" } })
    })
    expect(checkpointed.exit).toEqual<AttemptExit>({ _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" })
    const crashed = await attempt(request("ec2-job-5"), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 1 })
    })
    expect(crashed.exit).toEqual<AttemptExit>({ _tag: "Crashed", code: 1, signal: null })
    expect([...instances.values()].filter((i) => i.state !== "terminated")).toEqual([])
  })

  it("terminates what is still running when its scope closes without waiting for the end", async () => {
    let launchedIds: ReadonlyArray<string> = []
    await Effect.runPromise(
      Effect.scoped(Effect.gen(function*() {
        const runner = yield* Runner
        const handle = yield* runner.submit(request("ec2-job-6"))
        launchedIds = handle.externalId.split(",")
      })).pipe(Effect.provide(Ec2Runner.layer(settings)))
    )
    expect(allTerminated(launchedIds)).toEqual(["terminated"])
  })

  it("refuses a zone without a configured subnet before launching anything", async () => {
    const before = server.requests.length
    const req = request("ec2-job-7")
    const result = await Effect.runPromise(
      Effect.scoped(Effect.flatMap(Effect.service(Runner), (runner) => runner.submit({ ...req, placement: { ...req.placement, availabilityZone: "use1-az1" } }))).pipe(
        Effect.provide(Ec2Runner.layer(settings)),
        Effect.flip
      )
    )
    expect(result.message).toMatch(/no subnet configured for use1-az1 in us-east-1/)
    expect(server.requests.length).toBe(before)
  })
})

describe("the command's start, while the instance runs", () => {
  it("is reported from the tags the user data sets when the command prints it, once, before the result", async () => {
    const { whileRunning, all } = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const runner = yield* Runner
      const handle = yield* runner.submit(request("ec2-job-started"))
      const [id = ""] = handle.externalId.split(",")
      const collected: Array<TrainerEvent> = []
      const reading = yield* Effect.forkChild(Stream.runForEach(handle.events, (event) => Effect.sync(() => collected.push(event))))
      yield* Effect.sleep(150)
      const beforeTags = collected.length
      const instance = instances.get(id)
      if (instance === undefined) throw new Error("no instance")
      for (const [key, value] of [["frugal:resumed-from", "none"], ["frugal:pid", "4242"], ["frugal:device", "cuda:0"], ["frugal:precision", "bf16"]]) {
        instance.tags.set(key ?? "", value ?? "")
      }
      for (let i = 0; i < 200 && collected.length === beforeTags; i++) yield* Effect.sleep(10)
      const whileRunning = [...collected]
      finish(id, { exitCode: 0 })
      yield* Fiber.join(reading)
      return { whileRunning, all: collected, beforeTags }
    })).pipe(Effect.provide(Ec2Runner.layer(settings))))
    expect(whileRunning).toMatchObject([{ event: "started", step: 0, resumedFromStep: null, pid: 4242, device: "cuda:0", precision: "bf16" }])
    expect(all.filter((event) => event.event === "started")).toHaveLength(1)
  })

  it("reads only what the tags may hold: a step, or none; words of lower-case letters, digits and ':'", () => {
    const instance = (tags: Record<string, string>) => ({ Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) })
    expect(Ec2Runner.startedEvent(instance({}))).toBeNull()
    expect(Ec2Runner.startedEvent(instance({ "frugal:resumed-from": "12a" }))).toBeNull()
    expect(Ec2Runner.startedEvent(instance({ "frugal:resumed-from": "120", "frugal:pid": "7", "frugal:device": "cpu", "frugal:precision": "fp32" })))
      .toMatchObject({ event: "started", step: 120, resumedFromStep: 120, pid: 7, device: "cpu", precision: "fp32" })
    expect(Ec2Runner.startedEvent(instance({ "frugal:resumed-from": "none", "frugal:pid": "x", "frugal:device": "cuda;0", "frugal:precision": "BF16" })))
      .toMatchObject({ resumedFromStep: null, pid: 0, device: "unknown", precision: "unknown" })
  })

  it("the user data tags the first protocol line as the command prints it (bash, with aws recorded)", () => {
    const run = submittedUserData()
    const lines = run.split("\n")
    const from = lines.findIndex((line) => line === "started_tags() {")
    const to = lines.indexOf("}", from)
    expect(from).toBeGreaterThan(0)
    expect(lines[to + 1]).toBe("( for _ in $(seq 1 3600); do started_tags && break; sleep 1; done ) &")
    const bin = mkdtempSync(join(dir, "bin-"))
    writeFileSync(join(bin, "aws"), "#!/bin/bash\nprintf '%s\\n' \"$@\"\n")
    chmodSync(join(bin, "aws"), 0o755)
    const tagsFor = (log: string) => {
      const file = join(bin, "attempt.log")
      writeFileSync(file, log)
      const script = [`log=${JSON.stringify(file)}`, "region=us-east-1", "instance_id=i-self", ...lines.slice(from, to + 1), "started_tags"].join("\n")
      const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` } })
      return { status: result.status, tags: result.stdout.split("\n").filter((arg) => arg.startsWith("Key=")) }
    }
    // Nothing printed yet: no tags, and the loop asks again.
    expect(tagsFor("loading data\n").status).toBe(1)
    const fresh = '{"event": "started", "time": "2026-12-04T10:00:00Z", "step": 0, "resumedFromStep": null, "tokensSeen": 0, "device": "cpu", "precision": "fp32", "pid": 311}\n'
    expect(tagsFor(`booting\n${fresh}{"event": "step", "step": 1}\n`).tags).toEqual([
      "Key=frugal:resumed-from,Value=none", "Key=frugal:pid,Value=311", "Key=frugal:device,Value=cpu", "Key=frugal:precision,Value=fp32"
    ])
    const resumed = '{"event": "started", "step": 120, "resumedFromStep": 120, "tokensSeen": 3840, "device": "cuda:0", "precision": "bf16", "pid": 9}\n'
    expect(tagsFor(resumed).tags).toEqual([
      "Key=frugal:resumed-from,Value=120", "Key=frugal:pid,Value=9", "Key=frugal:device,Value=cuda:0", "Key=frugal:precision,Value=bf16"
    ])
    // A device the patterns do not admit is not passed on.
    const hostile = '{"event": "started", "resumedFromStep": null, "device": "cpu,Value=x Key=frugal:exit-code", "precision": "fp32", "pid": 1}\n'
    expect(tagsFor(hostile).tags).toContain("Key=frugal:device,Value=unknown")
  })
})

/** The RunInstances request sent after `before` requests, decoded. */
const runInstancesAfter = (before: number) =>
  server.requests.slice(before).map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "RunInstances")
const userDataOf = (run: URLSearchParams | undefined) => Buffer.from(run?.get("UserData") ?? "", "base64").toString("utf8")
/** The user data of an attempt, as RunInstances would carry it. */
const submittedUserData = () => {
  const input = Ec2Runner.runInstancesInput(settings, region, request("ec2-job-userdata"))
  return Buffer.from(input.UserData ?? "", "base64").toString("utf8")
}

/** `bash -n`: the script parses. */
const bashSyntax = (script: string) => {
  const file = join(dir, `user-data-${Math.random().toString(16).slice(2)}.sh`)
  writeFileSync(file, script)
  const result = spawnSync("bash", ["-n", file], { encoding: "utf8" })
  return { status: result.status, stderr: result.stderr }
}

/**
 * Runs the rendezvous part of a decoded user data script as one node would at boot, with `curl` answering as
 * IMDS (launch index, reservation, local address) and `aws` answering as EC2 (node 0's private address, only
 * for the query on the reservation, the attempt tag and launch index 0). Prints rank and rendezvous.
 */
const bootRendezvous = (userData: string, node: { launchIndex: number; ownIp: string; node0Ip: string; attemptId: string }) => {
  const lines = userData.split("\n")
  const from = lines.findIndex((line) => line.startsWith("imds() {"))
  const to = lines.findIndex((line) => line.startsWith("export FRUGAL_RENDEZVOUS="))
  const bin = mkdtempSync(join(dir, "bin-"))
  writeFileSync(join(bin, "curl"), [
    "#!/bin/bash",
    "case \"${@: -1}\" in",
    `  */ami-launch-index) echo ${node.launchIndex} ;;`,
    "  */reservation-id) echo r-1 ;;",
    `  */local-ipv4) echo ${node.ownIp} ;;`,
    "  *) exit 22 ;;",
    "esac"
  ].join("\n"))
  writeFileSync(join(bin, "aws"), [
    "#!/bin/bash",
    "args=\"$*\"",
    "case \"$args\" in",
    `  *'ec2 describe-instances'*'Name=reservation-id,Values=r-1'*'Name=tag:frugal:attempt,Values=${node.attemptId}'*'AmiLaunchIndex==\`0\`'*) echo ${node.node0Ip} ;;`,
    "  *) echo \"unexpected aws $args\" >&2; exit 1 ;;",
    "esac"
  ].join("\n"))
  chmodSync(join(bin, "curl"), 0o755)
  chmodSync(join(bin, "aws"), 0o755)
  const script = ["token=t", "region=us-east-1", "instance_id=i-self", ...lines.slice(from, to + 1), "echo \"$FRUGAL_NODE_RANK $FRUGAL_NNODES $FRUGAL_RENDEZVOUS\""].join("\n")
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` } })
  return { stdout: result.stdout.trim(), stderr: result.stderr, status: result.status, found: from >= 0 && to > from }
}

/** A python whose PyTorch has torchrun's argument parser (Debian's python3-torch here); null where there is none. */
const torchPython = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import torch.distributed.run"], { encoding: "utf8" }).status === 0
) ?? null

/** The torchrun line of a user data script, parsed by the installed torchrun's own argument parser. */
const parseTorchrunLine = (python: string, userData: string, rendezvous: string) => {
  const line = userData.split("\n").find((l) => l.startsWith("torchrun ")) ?? ""
  const parse = "import json, sys; from torch.distributed.run import parse_args; a = parse_args(sys.argv[1:]); " +
    "print(json.dumps([a.nnodes, a.nproc_per_node, a.rdzv_backend, a.rdzv_endpoint, a.rdzv_id, a.no_python, a.training_script, a.training_script_args]))"
  const script = [`FRUGAL_RENDEZVOUS=${rendezvous}`, `parse=${JSON.stringify(parse).replaceAll("$", "\\$")}`, line.replace(/^torchrun /, `${python} -c "$parse" `).replace(/ &$/, "")].join("\n")
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8" })
  return { status: result.status, parsed: result.status === 0 ? JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null") : result.stderr }
}

describe("multi-node EC2 attempts", () => {
  const clustered: Ec2Settings = withPlacementGroup(settings, "frugal-cluster")

  it("launches N instances in one RunInstances call, in the cluster placement group, each running torchrun meeting at node 0", async () => {
    const before = server.requests.length
    const { exit, ids } = await attempt(request("ec2-mn-1", "spot", 2), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 0 })
    }, clustered)
    expect(exit).toEqual<AttemptExit>({ _tag: "Completed" })
    const runs = server.requests.slice(before).map((r) => new URLSearchParams(r.body)).filter((p) => p.get("Action") === "RunInstances")
    expect(runs.length).toBe(1)
    const run = runs[0]
    expect(run?.get("MinCount")).toBe("2")
    expect(run?.get("MaxCount")).toBe("2")
    expect(run?.get("Placement.GroupName")).toBe("frugal-cluster")
    expect(run?.get("SubnetId")).toBe("subnet-0bbb")
    const userData = userDataOf(run)
    expect(userData).toContain(
      "torchrun --nnodes 2 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint \"$FRUGAL_RENDEZVOUS\" --rdzv_id 'ec2-mn-1' --no_python 'python3' '-m' 'frugal_trainer' '--tag' 'a; rm -rf $(pwd)' &"
    )
    expect(userData).toContain("export FRUGAL_NNODES='2'")
    expect(userData).toContain("export FRUGAL_RENDEZVOUS=\"$rdzv_host:29400\"")
    expect(bashSyntax(userData)).toEqual({ status: 0, stderr: "" })

    // Node 0's private address as the RunInstances response gave it: the runner logs it, and both nodes find it.
    const node0 = ids.map((id) => instances.get(id)).find((i) => i?.launchIndex === 0)
    const node0Ip = node0?.privateIp ?? ""
    expect(node0Ip).toMatch(/^10\.0\.\d+\.10$/)
    expect(readFileSync(join(dir, "logs", "ec2-mn-1.log"), "utf8")).toContain(`[frugal] rendezvous on node 0 ${ids[0] ?? ""} at ${node0Ip}:29400`)
    const rank0 = bootRendezvous(userData, { launchIndex: 0, ownIp: node0Ip, node0Ip: "203.0.113.99", attemptId: "ec2-mn-1" })
    expect(rank0).toEqual({ stdout: `0 2 ${node0Ip}:29400`, stderr: "", status: 0, found: true })
    const rank1 = bootRendezvous(userData, { launchIndex: 1, ownIp: "10.0.99.11", node0Ip, attemptId: "ec2-mn-1" })
    expect(rank1).toEqual({ stdout: `1 2 ${node0Ip}:29400`, stderr: "", status: 0, found: true })
    expect(allTerminated(ids)).toEqual(["terminated", "terminated"])
  })

  it.skipIf(torchPython === null)("writes a torchrun line that the installed torchrun parses as a 2-node c10d rendezvous", () => {
    const input = Ec2Runner.runInstancesInput(clustered, { ...region, placementGroup: "frugal-cluster" }, request("ec2-mn-parse", "spot", 2))
    const userData = Buffer.from(input.UserData ?? "", "base64").toString("utf8")
    expect(parseTorchrunLine(torchPython ?? "", userData, "10.0.7.10:29400")).toEqual({
      status: 0,
      parsed: ["2", "8", "c10d", "10.0.7.10:29400", "ec2-mn-parse", true, "python3", ["-m", "frugal_trainer", "--tag", "a; rm -rf $(pwd)"]]
    })
  })

  it("uses the configured rendezvous port and one process per node on a CPU instance", () => {
    const req = request("ec2-mn-port", "on-demand", 3)
    const input = Ec2Runner.runInstancesInput({ ...clustered, rendezvousPort: 29555 }, { ...region, placementGroup: "frugal-cluster" }, { ...req, placement: { ...req.placement, acceleratorsPerInstance: 0 } })
    const userData = Buffer.from(input.UserData ?? "", "base64").toString("utf8")
    expect(input.MinCount).toBe(3)
    expect(input.Placement).toEqual({ GroupName: "frugal-cluster" })
    expect(userData).toContain("torchrun --nnodes 3 --nproc_per_node 1 ")
    expect(userData).toContain("export FRUGAL_RENDEZVOUS=\"$rdzv_host:29555\"")
    expect(bashSyntax(userData).status).toBe(0)
  })

  it("a single-node attempt: no placement group, no rendezvous; one process per GPU under a standalone torchrun", async () => {
    const before = server.requests.length
    await attempt(request("ec2-sn-1"), async (launched) => {
      await sleep(100)
      for (const id of launched) finish(id, { exitCode: 0 })
    }, clustered)
    const run = runInstancesAfter(before)
    expect(run?.get("MinCount")).toBe("1")
    expect(run?.get("MaxCount")).toBe("1")
    expect(run?.get("Placement.GroupName")).toBeNull()
    const userData = userDataOf(run)
    expect(userData).not.toContain("--rdzv_endpoint")
    expect(userData).not.toContain("FRUGAL_RENDEZVOUS")
    expect(userData).not.toContain("ami-launch-index")
    expect(userData).toContain(
      "\n'torchrun' '--standalone' '--nnodes' '1' '--nproc_per_node' '8' '--no_python' 'python3' '-m' 'frugal_trainer' '--tag' 'a; rm -rf $(pwd)' &\n"
    )
    expect(bashSyntax(userData)).toEqual({ status: 0, stderr: "" })
    // One GPU (or none): the argv itself.
    const req = request("ec2-sn-2")
    const oneGpu = Ec2Runner.runInstancesInput(settings, region, { ...req, placement: { ...req.placement, acceleratorsPerInstance: 1 } })
    expect(Buffer.from(oneGpu.UserData ?? "", "base64").toString("utf8")).toContain("\n'python3' '-m' 'frugal_trainer' '--tag' 'a; rm -rf $(pwd)' &\n")
  })

  it("cancel terminates every instance of a multi-node attempt", async () => {
    const before = server.requests.length
    const { exit, ids } = await attempt(request("ec2-mn-2", "spot", 2), async (_launched, cancel) => {
      await sleep(100)
      await cancel()
    }, clustered)
    expect(exit).toEqual<AttemptExit>({ _tag: "Interrupted", resumable: false })
    expect(ids.length).toBe(2)
    const terminate = server.requests.slice(before).map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "TerminateInstances")
    expect([terminate?.get("InstanceId.1"), terminate?.get("InstanceId.2")]).toEqual(ids)
    expect(allTerminated(ids)).toEqual(["terminated", "terminated"])
  })

  it("ends the attempt and terminates the other node when one node stops", async () => {
    const before = server.requests.length
    const { exit, ids } = await attempt(request("ec2-mn-3", "spot", 2), async (launched) => {
      await sleep(100)
      const [, second] = launched
      if (second !== undefined) finish(second, { exitCode: 1 })
    }, clustered)
    expect(exit).toEqual<AttemptExit>({ _tag: "Crashed", code: 1, signal: null })
    // The surviving node was sent TerminateInstances and is shutting down (EC2's state right after the call).
    const [first, second] = ids
    expect([instances.get(first ?? "")?.state, instances.get(second ?? "")?.state]).toEqual(["shutting-down", "terminated"])
    const terminate = server.requests.slice(before).map((r) => new URLSearchParams(r.body)).find((p) => p.get("Action") === "TerminateInstances")
    expect(terminate?.get("InstanceId.1")).toBe(first)
  })
})
