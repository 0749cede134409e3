/**
 * A loopback EC2 whose instances really run: one HTTP server that answers the real SDK clients in their wire formats
 * (EC2 query for RunInstances, DescribeInstances, TerminateInstances and CreateTags; awsJson1_1 for Service Quotas'
 * GetServiceQuota) and serves each instance's metadata (IMDSv2 under `/imds/<instance-id>`). RunInstances decodes
 * the user data and runs it with bash on this machine, as cloud-init would on the instance, with:
 * - the instance's file system a temporary directory (the script's `/var/log/...` and `/var/lib/frugal/...` paths
 *   are pointed there: the only edit made to the script);
 * - `AWS_EC2_METADATA_SERVICE_ENDPOINT` pointing at this server, which the script and the trainer honour;
 * - `aws` (s3 sync against a local directory standing for S3; ec2 create-tags and describe-instances over HTTP to
 *   this server), `shutdown` (tells this server the instance powered off) and `python3` (the Python with torch) as
 *   small programs on PATH.
 * The test plays the cloud: it refuses capacity in chosen subnets, sets quotas, and reclaims spot instances with the
 * two-minute notice (IMDS `spot/instance-action`), after which the instance terminates with
 * `Server.SpotInstanceTermination`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { awsJsonError, awsJsonOperation } from "./AwsJson.ts"
import { ec2Error, ec2QueryHandler, type Ec2Params, isEc2Query } from "./Ec2Query.ts"
import { type LoopbackRequest, type LoopbackResponse, type LoopbackServer, startLoopbackServer } from "./LoopbackServer.ts"

type State = "pending" | "running" | "shutting-down" | "terminated"
const CODES: Readonly<Record<State, number>> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48 }

export interface FakeInstance {
  readonly id: string
  readonly region: string
  readonly subnet: string
  readonly zone: string
  readonly instanceType: string
  readonly market: "spot" | "on-demand"
  readonly attemptId: string
  readonly directory: string
  state: State
  reason: { code: string; message: string } | null
  readonly tags: Map<string, string>
  process: ChildProcess | null
  /** Set when the test reclaims the instance: IMDS shows the notice, the end is a spot termination. */
  reclaimAt: number | null
}

/** One RunInstances request as it arrived, refused or not. */
export interface LaunchRequest {
  readonly region: string
  readonly subnet: string
  readonly zone: string
  readonly instanceType: string
  readonly market: "spot" | "on-demand"
  readonly attemptId: string
  readonly refusedWith: string | null
}

export interface FakeEc2CloudOptions {
  /** Region → AZ ID → subnet. */
  readonly subnets: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** The Python that imports torch, run as `python3` on the instances. */
  readonly python: string
  /** Where instance directories and the stand-in for S3 go. */
  readonly directory: string
}

/** The region a SigV4-signed request was signed for (`Credential=AKID/date/<region>/<service>/aws4_request`). */
const regionOf = (request: LoopbackRequest): string => {
  const header = request.headers["authorization"]
  const value = Array.isArray(header) ? header[0] : header
  return /Credential=[^/]+\/\d+\/([a-z0-9-]+)\//.exec(value ?? "")?.[1] ?? "us-east-1"
}

const STUB_AWS = `#!/bin/bash
# aws, as far as frugal's user data uses it: s3 sync (S3 is a local directory), ec2 create-tags and describe-instances.
echo "aws $*" >> "$FRUGAL_FAKE_ROOT/aws-calls.log"
service="$1"; action="$2"; shift 2
args=(); region=""; resources=""; tags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) region="$2"; shift 2 ;;
    --sse|--sse-kms-key-id|--output|--query|--filters) shift 2 ;;
    --only-show-errors) shift ;;
    --resources) resources="$2"; shift 2 ;;
    --tags) shift; while [ $# -gt 0 ] && [[ "$1" == Key=* ]]; do tags+=("$1"); shift; done ;;
    *) args+=("$1"); shift ;;
  esac
done
local_path() { case "$1" in s3://*) echo "$FRUGAL_FAKE_ROOT/s3/\${1#s3://}" ;; *) echo "$1" ;; esac; }
if [ "$service" = s3 ] && [ "$action" = sync ]; then
  src="$(local_path "\${args[0]}")"; dst="$(local_path "\${args[1]}")"
  mkdir -p "$dst"
  [ -d "$src" ] && cp -a "$src/." "$dst/"
  exit 0
fi
if [ "$service" = ec2 ] && [ "$action" = create-tags ]; then
  form=(--data-urlencode "Action=CreateTags" --data-urlencode "ResourceId.1=$resources")
  n=0
  for tag in "\${tags[@]}"; do
    n=$((n + 1)); key="\${tag#Key=}"; key="\${key%%,*}"; value="\${tag##*Value=}"
    form+=(--data-urlencode "Tag.$n.Key=$key" --data-urlencode "Tag.$n.Value=$value")
  done
  curl -sf -X POST "$FRUGAL_FAKE_EC2" "\${form[@]}" >/dev/null
  exit $?
fi
echo "fake aws: $service $action is not supported" >&2
exit 2
`

const STUB_SHUTDOWN = `#!/bin/bash
# Powering off: the fake cloud marks the instance as shutting down (and terminated: shutdown behaviour is terminate).
curl -sf -X POST "$FRUGAL_FAKE_EC2/__shutdown/$FRUGAL_FAKE_INSTANCE" >/dev/null
exit 0
`

export class FakeEc2Cloud {
  readonly instances = new Map<string, FakeInstance>()
  readonly launches: Array<LaunchRequest> = []
  /** Subnets that answer InsufficientInstanceCapacity. */
  readonly noCapacity = new Set<string>()
  /** Called as an instance is launched, before its user data runs: where a test plays an operator between attempts. */
  beforeLaunch: ((attemptId: string) => void) | null = null
  /** Region → quota code → vCPUs. */
  readonly quotas = new Map<string, Map<string, number>>()
  private counter = 0
  readonly server: LoopbackServer
  private readonly options: FakeEc2CloudOptions
  private constructor(server: LoopbackServer, options: FakeEc2CloudOptions) {
    this.server = server
    this.options = options
  }

  static async start(options: FakeEc2CloudOptions): Promise<FakeEc2Cloud> {
    const bin = join(options.directory, "bin")
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, "aws"), STUB_AWS)
    writeFileSync(join(bin, "shutdown"), STUB_SHUTDOWN)
    writeFileSync(join(bin, "python3"), `#!/bin/bash\nexec ${JSON.stringify(options.python)} "$@"\n`)
    for (const name of ["aws", "shutdown", "python3"]) chmodSync(join(bin, name), 0o755)
    let cloud: FakeEc2Cloud | undefined
    const server = await startLoopbackServer((request) => {
      if (cloud === undefined) return { status: 503, body: "" }
      return cloud.handle(request)
    })
    cloud = new FakeEc2Cloud(server, options)
    return cloud
  }

  get url(): string {
    return this.server.url
  }

  /** The environment a client process needs to reach this cloud with the real SDK. */
  clientEnvironment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_EC2: this.url,
      AWS_ENDPOINT_URL_SERVICE_QUOTAS: this.url,
      AWS_ACCESS_KEY_ID: "AKIDLOOPBACK",
      AWS_SECRET_ACCESS_KEY: "loopback",
      AWS_REGION: "us-east-1"
    }
  }

  /** Sets a quota (vCPUs) in a region. */
  setQuota(region: string, code: string, vcpus: number): void {
    const codes = this.quotas.get(region) ?? new Map<string, number>()
    codes.set(code, vcpus)
    this.quotas.set(region, codes)
  }

  /** The spot two-minute notice: IMDS shows it; the instance terminates as a spot reclaim when it powers off. */
  reclaim(id: string): void {
    const instance = this.instances.get(id)
    if (instance === undefined) throw new Error(`no instance ${id}`)
    instance.reclaimAt = Date.now()
    // EC2 terminates the instance two minutes after the notice whatever it does; here, after 60 s.
    setTimeout(() => this.end(instance, "Server.SpotInstanceTermination", "Spot instance termination"), 60_000).unref()
  }

  /** Whether the instance's local checkpoint directory holds a checkpoint yet. */
  hasCheckpoint(id: string): boolean {
    const directory = join(this.instances.get(id)?.directory ?? "", "checkpoints")
    return existsSync(directory) && readdirSync(directory).some((name) => /step|ckpt|\.pt$/.test(name))
  }

  running(): ReadonlyArray<FakeInstance> {
    return [...this.instances.values()].filter((instance) => instance.state === "pending" || instance.state === "running")
  }

  async close(): Promise<void> {
    for (const instance of this.instances.values()) this.kill(instance)
    await this.server.close()
  }

  private kill(instance: FakeInstance): void {
    const child = instance.process
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  }

  private end(instance: FakeInstance, code: string, message: string): void {
    if (instance.state === "terminated") return
    instance.state = "terminated"
    instance.reason ??= { code, message: `${code}: ${message}` }
    this.kill(instance)
  }

  private handle(request: LoopbackRequest): LoopbackResponse | Promise<LoopbackResponse> {
    const shutdown = /^\/__shutdown\/(i-[0-9a-f]+)$/.exec(request.url)
    if (shutdown?.[1] !== undefined) {
      const instance = this.instances.get(shutdown[1])
      if (instance !== undefined && instance.state !== "terminated") {
        instance.state = "shutting-down"
        instance.reason = instance.reclaimAt === null
          ? { code: "Client.InstanceInitiatedShutdown", message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown" }
          : { code: "Server.SpotInstanceTermination", message: "Server.SpotInstanceTermination: Spot instance termination" }
      }
      return { status: 200, body: "" }
    }
    const imds = /^\/imds\/(i-[0-9a-f]+)(\/.*)$/.exec(request.url)
    if (imds?.[1] !== undefined && imds[2] !== undefined) return this.metadata(imds[1], imds[2], request.method)
    if (awsJsonOperation(request) === "GetServiceQuota") return this.serviceQuota(request)
    if (isEc2Query(request)) return this.ec2(request)
    return { status: 404, body: "not found" }
  }

  private metadata(id: string, path: string, method: string): LoopbackResponse {
    const instance = this.instances.get(id)
    if (instance === undefined) return { status: 404, body: "" }
    if (method === "PUT" && path === "/latest/api/token") return { status: 200, body: `token-${id}` }
    const answers: Readonly<Record<string, string>> = {
      "/latest/meta-data/instance-id": id,
      "/latest/meta-data/placement/region": instance.region,
      "/latest/meta-data/ami-launch-index": "0",
      "/latest/meta-data/reservation-id": `r-${id.slice(2)}`,
      "/latest/meta-data/local-ipv4": "127.0.0.1",
      ...(instance.reclaimAt === null
        ? {}
        : { "/latest/meta-data/spot/instance-action": JSON.stringify({ action: "terminate", time: new Date(instance.reclaimAt + 120_000).toISOString() }) })
    }
    const body = answers[path]
    return body === undefined ? { status: 404, body: "" } : { status: 200, body }
  }

  private serviceQuota(request: LoopbackRequest): LoopbackResponse {
    const input: unknown = JSON.parse(request.body === "" ? "{}" : request.body)
    const code = typeof input === "object" && input !== null ? String(Reflect.get(input, "QuotaCode")) : ""
    const region = regionOf(request)
    const value = this.quotas.get(region)?.get(code)
    if (value === undefined) return awsJsonError("NoSuchResourceException", `no quota ${code} in ${region}`)
    return {
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: JSON.stringify({ Quota: { ServiceCode: "ec2", QuotaCode: code, QuotaName: code, Value: value, Unit: "None", Adjustable: true, GlobalQuota: false } })
    }
  }

  private describe(instance: FakeInstance) {
    const shown = {
      instanceId: instance.id,
      instanceType: instance.instanceType,
      amiLaunchIndex: 0,
      privateIpAddress: "127.0.0.1",
      subnetId: instance.subnet,
      placement: { availabilityZone: instance.zone },
      instanceState: { code: CODES[instance.state], name: instance.state },
      ...(instance.reason === null ? {} : { stateReason: instance.reason }),
      tagSet: [...instance.tags].map(([key, value]) => ({ key, value }))
    }
    // One state per look, as EC2 moves: pending becomes running; shutting down becomes terminated.
    if (instance.state === "shutting-down") instance.state = "terminated"
    return shown
  }

  private ec2(request: LoopbackRequest): Promise<LoopbackResponse> {
    const region = regionOf(request)
    return ec2QueryHandler({
      RunInstances: (params) => this.runInstances(region, params),
      DescribeInstances: (params) => ({
        reservationSet: params.list("InstanceId").flatMap((id) => {
          const instance = this.instances.get(id)
          return instance === undefined ? [] : [{ reservationId: `r-${id.slice(2)}`, instancesSet: [this.describe(instance)] }]
        })
      }),
      TerminateInstances: (params) => ({
        instancesSet: params.list("InstanceId").map((id) => {
          const instance = this.instances.get(id)
          const previous = instance?.state ?? "terminated"
          if (instance !== undefined && instance.state !== "terminated") {
            instance.reason ??= { code: "Client.UserInitiatedShutdown", message: "Client.UserInitiatedShutdown: User initiated shutdown" }
            instance.state = "shutting-down"
            this.kill(instance)
          }
          return { instanceId: id, currentState: { code: 32, name: "shutting-down" }, previousState: { code: CODES[previous], name: previous } }
        })
      }),
      CreateTags: (params) => {
        const instance = this.instances.get(params.get("ResourceId.1") ?? "")
        for (let t = 1; params.get(`Tag.${t}.Key`) !== undefined; t++) {
          instance?.tags.set(params.get(`Tag.${t}.Key`) ?? "", params.get(`Tag.${t}.Value`) ?? "")
        }
        return { return: true }
      }
    })(request)
  }

  private runInstances(region: string, params: Ec2Params) {
    const subnet = params.get("SubnetId") ?? ""
    const zone = Object.entries(this.options.subnets[region] ?? {}).find(([, s]) => s === subnet)?.[0]
    const market = params.get("InstanceMarketOptions.MarketType") === "spot" ? "spot" : "on-demand"
    const attemptTag = (() => {
      for (let t = 1; params.get(`TagSpecification.1.Tag.${t}.Key`) !== undefined; t++) {
        if (params.get(`TagSpecification.1.Tag.${t}.Key`) === "frugal:attempt") return params.get(`TagSpecification.1.Tag.${t}.Value`) ?? ""
      }
      return ""
    })()
    const launch = { region, subnet, zone: zone ?? "?", instanceType: params.get("InstanceType") ?? "", market, attemptId: attemptTag } as const
    if (zone === undefined) {
      this.launches.push({ ...launch, refusedWith: "InvalidSubnetID.NotFound" })
      return ec2Error("InvalidSubnetID.NotFound", `The subnet ID '${subnet}' does not exist in ${region}`)
    }
    if (this.noCapacity.has(subnet)) {
      this.launches.push({ ...launch, refusedWith: "InsufficientInstanceCapacity" })
      return ec2Error(
        "InsufficientInstanceCapacity",
        `We currently do not have sufficient ${launch.instanceType} capacity in the Availability Zone you requested (${zone}).`
      )
    }
    this.launches.push({ ...launch, refusedWith: null })
    this.beforeLaunch?.(attemptTag)
    const id = `i-${(++this.counter).toString(16).padStart(17, "0")}`
    const directory = join(this.options.directory, id)
    mkdirSync(join(directory, "checkpoints"), { recursive: true })
    const tags = new Map<string, string>()
    for (let t = 1; params.get(`TagSpecification.1.Tag.${t}.Key`) !== undefined; t++) {
      tags.set(params.get(`TagSpecification.1.Tag.${t}.Key`) ?? "", params.get(`TagSpecification.1.Tag.${t}.Value`) ?? "")
    }
    const instance: FakeInstance = {
      id,
      region,
      subnet,
      zone,
      instanceType: launch.instanceType,
      market,
      attemptId: attemptTag,
      directory,
      state: "pending",
      reason: null,
      tags,
      process: null,
      reclaimAt: null
    }
    this.instances.set(id, instance)
    // cloud-init: the user data runs once, as root, on the instance's own file system.
    const userData = Buffer.from(params.get("UserData") ?? "", "base64").toString("utf8")
      .replaceAll("/var/log/frugal-attempt.log", join(directory, "attempt.log"))
      .replaceAll("/var/lib/frugal/checkpoints", join(directory, "checkpoints"))
    const script = join(directory, "user-data.sh")
    writeFileSync(script, userData)
    instance.process = spawn("bash", [script], {
      cwd: directory,
      detached: true,
      stdio: "ignore",
      env: {
        PATH: `${join(this.options.directory, "bin")}:/usr/bin:/bin`,
        HOME: directory,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `${this.url}/imds/${id}`,
        FRUGAL_FAKE_EC2: this.url,
        FRUGAL_FAKE_INSTANCE: id,
        FRUGAL_FAKE_ROOT: this.options.directory
      }
    })
    instance.process.on("exit", () => {
      if (instance.state === "pending" || instance.state === "running") {
        // A script that ends without powering off leaves a running instance; EC2 would keep billing it.
        instance.state = "running"
      }
    })
    instance.state = "running"
    return {
      reservationId: `r-${id.slice(2)}`,
      ownerId: "123456789012",
      instancesSet: [{ ...this.describe(instance), instanceState: { code: 0, name: "pending" } }]
    }
  }
}
