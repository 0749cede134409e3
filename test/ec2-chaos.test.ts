/**
 * The plan launches, end to end on EC2: `frugal run --infra` with the real EC2 and Service Quotas clients against a
 * loopback cloud whose instances really run the user data (and so the CPU trainer) on this machine
 * (test/support/aws/FakeEc2Cloud.ts). The cloud refuses capacity in the plan's first zone, reclaims spot twice, and
 * has no on-demand G quota left in us-east-1:
 * - the launches are exactly what the ranked plan and the policy say: the first zone (refused), the next zone in
 *   rank order, then after each reclaim the cheapest spot zone not cooling down (the greedy policy);
 * - nothing is ever asked of the exhausted quota; no instance is left running;
 * - the job completes with the weights of an uninterrupted run, and the ledger lists every launch with its outcome,
 *   reason and cost (the refused one at $0, the ones in us-east-2 with the checkpoint's transfer);
 * - a supervisor killed with SIGKILL mid-run is continued with `--resume`, which adopts the running instance
 *   instead of launching another;
 * - a relaunch that finds the checkpoint store emptied is stopped as soon as its command says it started fresh
 *   (the `frugal:resumed-from` tag), the job fails naming the checkpoint, and `--from-scratch` starts over.
 * Bad profiles exit 2 naming the field, impossible quotas exit 3 naming the quota code, and neither touches the ledger.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FakeEc2Cloud } from "./support/aws/FakeEc2Cloud.ts"
import { example, frugalBin, repoRoot, runFrugal } from "./support/frugalCli.ts"

const python = ["/usr/bin/python3", "python3"].find((candidate) =>
  spawnSync(candidate, ["-c", "import torch"], { stdio: "ignore" }).status === 0
) ?? "/usr/bin/python3"
const trainerRoot = fileURLToPath(new URL("../packages/trainer/", import.meta.url))

const dir = mkdtempSync(join(tmpdir(), "frugal-ec2-chaos-"))
let cloud: FakeEc2Cloud
const children: Array<ChildProcess> = []

const SUBNETS = {
  "us-east-1": { "use1-az4": "subnet-0a0a0a01", "use1-az6": "subnet-0a0a0a02" },
  "us-east-2": { "use2-az1": "subnet-0b0b0b01", "use2-az2": "subnet-0b0b0b02" }
} as const

/** g5.xlarge (1 × A10G, 4 vCPUs) only: spot in four zones, on-demand in both regions. */
const catalogFile = join(dir, "catalog.json")
writeFileSync(catalogFile, JSON.stringify({
  asOf: "2026-12-01",
  description: "chaos test prices",
  offers: [
    { instanceType: "g5.xlarge", region: "us-east-1", availabilityZone: "use1-az4", purchaseOption: "spot", hourlyPriceUsd: 0.30 },
    { instanceType: "g5.xlarge", region: "us-east-2", availabilityZone: "use2-az1", purchaseOption: "spot", hourlyPriceUsd: 0.32 },
    { instanceType: "g5.xlarge", region: "us-east-1", availabilityZone: "use1-az6", purchaseOption: "spot", hourlyPriceUsd: 0.35 },
    { instanceType: "g5.xlarge", region: "us-east-2", availabilityZone: "use2-az2", purchaseOption: "spot", hourlyPriceUsd: 0.40 },
    { instanceType: "g5.xlarge", region: "us-east-1", purchaseOption: "on-demand", hourlyPriceUsd: 1.006 },
    { instanceType: "g5.xlarge", region: "us-east-2", purchaseOption: "on-demand", hourlyPriceUsd: 1.05 }
  ]
}))

const profileFile = join(dir, "infra.yaml")
writeFileSync(profileFile, [
  "aws:",
  "  checkpoints: { uri: s3://frugal-chaos/ckpt, region: us-east-1, kmsKeyId: alias/frugal }",
  "  pollSeconds: 0.2",
  // The instance's software: the trainer on the Python path (an AMI would bake it in).
  `  setup: [${JSON.stringify(`export PYTHONPATH=${trainerRoot}`)}]`,
  "  regions:",
  ...Object.entries(SUBNETS).flatMap(([region, subnets]) => [
    `    ${region}:`,
    `      subnets: { ${Object.entries(subnets).map(([zone, subnet]) => `${zone}: ${subnet}`).join(", ")} }`,
    "      image: ami-0123456789abcdef0",
    "      securityGroups: [sg-0123abcd]",
    "      instanceProfile: frugal-node"
  ])
].join("\n"))

/** The tiny reference GPT, long enough (600 steps, a checkpoint every 5) that a reclaim after its first checkpoint lands mid-run even when the instance notices it late. */
const workload = (name: string, extra = "") => {
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, readFileSync(example("run/tiny-train.yaml"), "utf8")
    .replace(/^name: .*$/m, `name: ${name}`)
    .replace(/tokens: \d+/, "tokens: 76800")
    .replace(/^run:/m, `constraints:\n  deadlineHours: 4\n  regions: [us-east-1, us-east-2]\n${extra}run:`))
  return file
}

const env = (home: string): Record<string, string> => ({
  ...cloud.clientEnvironment(),
  FRUGAL_HOME: home,
  FRUGAL_CACHE_DIR: join(home, "cache"),
  FRUGAL_INFRA: "",
  AWS_MAX_ATTEMPTS: "2"
})

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Waits until `ready()` holds (polling), failing after `millis`. */
const until = async (what: string, ready: () => boolean, millis = 180_000) => {
  const started = Date.now()
  while (!ready()) {
    if (Date.now() - started > millis) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const start = (args: ReadonlyArray<string>, home: string) => {
  const child = spawn(process.execPath, [frugalBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env(home), NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
  children.push(child)
  const output = { stdout: "", stderr: "" }
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { child, output, exited }
}

const weightsHash = (stdout: string): string | undefined => /weights sha256: ([0-9a-f]{64})/.exec(stdout)?.[1]

interface StatusJson {
  readonly job: { readonly state: string; readonly costUsd: number; readonly weightsSha256: string | null }
  readonly attempts: ReadonlyArray<{
    readonly runner: string
    readonly instanceType: string
    readonly region: string
    readonly availabilityZone: string | null
    readonly purchaseOption: string
    readonly outcome: string
    readonly reason: string | null
    readonly costUsd: number
    readonly transferCostUsd: number
    readonly durationSeconds: number
  }>
}

let referenceHash: string | undefined

beforeAll(async () => {
  cloud = await FakeEc2Cloud.start({ subnets: SUBNETS, python, directory: join(dir, "cloud") })
  cloud.noCapacity.add(SUBNETS["us-east-1"]["use1-az4"])
  for (const region of Object.keys(SUBNETS)) {
    cloud.setQuota(region, "L-DB2E81BA", region === "us-east-1" ? 0 : 64) // Running On-Demand G and VT instances
    cloud.setQuota(region, "L-3819A6DF", 64) // All G and VT Spot Instance Requests
  }
  // The weights of the same job run once, uninterrupted, on this machine.
  const reference = await runFrugal(["run", workload("reference"), "--job-id", "reference"], { env: { FRUGAL_HOME: join(dir, "reference"), FRUGAL_INFRA: "" } })
  expect(reference.code, reference.stderr).toBe(0)
  referenceHash = weightsHash(reference.stdout)
}, 180_000)

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
  await cloud.close()
  rmSync(dir, { recursive: true, force: true })
})

describe("frugal run on EC2: capacity errors, reclaims and quotas", () => {
  it("launches where the plan ranks first, fails over, relaunches where the policy says, and ends on the uninterrupted weights", async () => {
    const home = join(dir, "chaos")
    const file = workload("chaos")
    const dry = await runFrugal(["run", file, "--infra", profileFile, "--catalog", catalogFile, "--policy", "greedy", "--dry-run", "--json"], { env: env(home) })
    expect(dry.code, dry.stderr).toBe(0)
    const plan = JSON.parse(dry.stdout) as {
      placements: ReadonlyArray<{ runner: string; region: string; availabilityZone: string; purchaseOption: string; hourlyPriceUsd: number }>
      excluded: ReadonlyArray<{ option: string; why: string }>
      firstLaunch: { engine: string; region: string; RunInstances: Record<string, unknown>; userData: string }
    }
    // Spot zones by price, then on-demand in us-east-2 only: us-east-1's on-demand G quota is 0.
    expect(plan.placements.map((p) => `${p.purchaseOption} ${p.availabilityZone}`)).toEqual([
      "spot use1-az4",
      "spot use2-az1",
      "spot use1-az6",
      "spot use2-az2",
      "on-demand use2-az1",
      "on-demand use2-az2"
    ])
    expect(plan.excluded.some((e) => e.why.startsWith("above quota L-DB2E81BA") && e.option.includes("us-east-1"))).toBe(true)
    expect(plan.firstLaunch).toMatchObject({ engine: "ec2", region: "us-east-1" })
    expect(plan.firstLaunch.RunInstances).toMatchObject({ InstanceType: "g5.xlarge", SubnetId: "subnet-0a0a0a01" })
    expect(plan.firstLaunch.userData).toContain("--sse aws:kms --sse-kms-key-id 'alias/frugal'")

    const run = start(["run", file, "--infra", profileFile, "--catalog", catalogFile, "--policy", "greedy", "--job-id", "chaos"], home)
    // The cloud reclaims the first two instances that reach a checkpoint.
    for (const nth of [1, 2]) {
      await until(`instance ${nth} to checkpoint`, () => [...cloud.instances.values()].filter((i) => i.attemptId.startsWith("chaos-")).length >= nth &&
        cloud.hasCheckpoint([...cloud.instances.values()].filter((i) => i.attemptId.startsWith("chaos-"))[nth - 1]?.id ?? "")).catch((error: unknown) => {
        // What the supervisor and the cloud saw, for a failure on a loaded runner.
        const instances = [...cloud.instances.values()].map((i) => `${i.id} ${i.attemptId} ${i.state} ${i.reason?.code ?? ""}`)
        throw new Error(`${String(error)}\n--- frugal run stdout:\n${run.output.stdout.slice(-4000)}\n--- stderr:\n${run.output.stderr.slice(-2000)}\n--- instances:\n${instances.join("\n")}`)
      })
      const instance = [...cloud.instances.values()].filter((i) => i.attemptId.startsWith("chaos-"))[nth - 1]
      if (instance === undefined) throw new Error("no instance")
      cloud.reclaim(instance.id)
    }
    const code = await Promise.race([run.exited, sleep(240_000).then(() => "timeout" as const)])
    expect(run.output.stderr).toBe("")
    expect(code).toBe(0)
    expect(weightsHash(run.output.stdout), run.output.stdout).toBe(referenceHash)

    // The launches, exactly: refused in the plan's first zone; the next zone in rank order; after each reclaim the
    // cheapest spot zone not cooling down.
    expect(cloud.launches.filter((l) => l.attemptId.startsWith("chaos-")).map((l) => [l.attemptId, l.market, l.zone, l.refusedWith])).toEqual([
      ["chaos-1", "spot", "use1-az4", "InsufficientInstanceCapacity"],
      ["chaos-2", "spot", "use2-az1", null],
      ["chaos-3", "spot", "use1-az6", null],
      ["chaos-4", "spot", "use2-az2", null]
    ])
    expect(cloud.launches.some((l) => l.market === "on-demand" && l.region === "us-east-1")).toBe(false)
    expect(cloud.running()).toEqual([])
    expect(run.output.stdout).toMatch(/\[next\] .*use2-az1.*failover after InsufficientInstanceCapacity/)
    expect(run.output.stdout).toMatch(/\[next\] .*use1-az6.*policy greedy: spot in use1-az6/)
    expect(run.output.stdout).toMatch(/\[next\] .*use2-az2.*policy greedy: spot in use2-az2/)

    const status = await runFrugal(["status", "chaos", "--json"], { env: env(home) })
    expect(status.code, status.stderr).toBe(0)
    const report = JSON.parse(status.stdout) as StatusJson
    expect(report.job.state).toBe("completed")
    expect(report.attempts.map((a) => [a.runner, a.purchaseOption, a.availabilityZone, a.outcome, a.reason])).toEqual([
      ["ec2", "spot", "use1-az4", "provision-failed", "InsufficientInstanceCapacity"],
      ["ec2", "spot", "use2-az1", "interrupted", "Server.SpotInstanceTermination"],
      ["ec2", "spot", "use1-az6", "interrupted", "Server.SpotInstanceTermination"],
      ["ec2", "spot", "use2-az2", "completed", null]
    ])
    const [refused, second, third, fourth] = report.attempts
    expect(refused?.costUsd).toBe(0)
    for (const attempt of [second, third, fourth]) expect(attempt?.costUsd).toBeGreaterThan(0)
    // us-east-2 reads and writes the checkpoint across regions (the store is in us-east-1); use1-az6 does not.
    expect(second?.transferCostUsd).toBeGreaterThan(0)
    expect(third?.transferCostUsd).toBe(0)
    expect(fourth?.transferCostUsd).toBeGreaterThan(0)
    expect(report.job.costUsd).toBeCloseTo(report.attempts.reduce((sum, a) => sum + a.costUsd, 0), 10)
    // Checkpoints written to the store were encrypted with the profile's key.
    expect(readFileSync(join(dir, "cloud", "aws-calls.log"), "utf8")).toMatch(/s3 sync .*--sse aws:kms --sse-kms-key-id alias\/frugal .*s3:\/\/frugal-chaos\/ckpt\/chaos/)
  }, 600_000)

  it("a supervisor killed with SIGKILL is continued with --resume, which adopts the running instance instead of launching another", async () => {
    const home = join(dir, "adopt")
    const file = workload("adopt")
    const first = start(["run", file, "--infra", profileFile, "--catalog", catalogFile, "--policy", "greedy", "--job-id", "adopt"], home)
    const ours = () => [...cloud.instances.values()].filter((i) => i.attemptId.startsWith("adopt-") && i.state === "running")
    await until("the adopt job's instance to checkpoint", () => ours()[0] !== undefined && cloud.hasCheckpoint(ours()[0]?.id ?? ""))
    first.child.kill("SIGKILL")
    await first.exited
    const instance = ours()[0]
    expect(instance?.state).toBe("running")

    const resumed = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const again = start(["run", "--resume", "adopt"], home)
      void again.exited.then((code) => resolve({ code, ...again.output }))
    })
    expect(resumed.stderr, resumed.stdout).toBe("")
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toContain("[attempt 2] still running on g5.xlarge spot in use2-az1 (us-east-2): following it again")
    expect(weightsHash(resumed.stdout)).toBe(referenceHash)
    // One RunInstances for the job that succeeded: the refused first zone, then the instance that was adopted.
    expect(cloud.launches.filter((l) => l.attemptId.startsWith("adopt-")).map((l) => [l.attemptId, l.refusedWith])).toEqual([
      ["adopt-1", "InsufficientInstanceCapacity"],
      ["adopt-2", null]
    ])
    expect(cloud.running()).toEqual([])
    const status = JSON.parse((await runFrugal(["status", "adopt", "--json"], { env: env(home) })).stdout) as StatusJson
    expect(status.attempts.map((a) => [a.outcome, a.reason])).toEqual([["provision-failed", "InsufficientInstanceCapacity"], ["completed", null]])
  }, 360_000)

  it("a relaunch that finds the checkpoint store emptied is stopped at its start, and --from-scratch starts over", async () => {
    const home = join(dir, "emptied")
    const file = workload("emptied")
    const store = join(dir, "cloud", "s3", "frugal-chaos", "ckpt", "emptied")
    // Between the reclaimed attempt and the next one, the job's checkpoints disappear from the store.
    cloud.beforeLaunch = (attemptId) => {
      if (attemptId === "emptied-3") rmSync(store, { recursive: true, force: true })
    }
    const run = start(["run", file, "--infra", profileFile, "--catalog", catalogFile, "--policy", "greedy", "--job-id", "emptied"], home)
    const ours = () => [...cloud.instances.values()].filter((i) => i.attemptId.startsWith("emptied-"))
    await until("the emptied job's first instance to checkpoint", () => ours()[0] !== undefined && cloud.hasCheckpoint(ours()[0]?.id ?? ""))
    cloud.reclaim(ours()[0]?.id ?? "")
    const code = await Promise.race([run.exited, sleep(240_000).then(() => "timeout" as const)])
    cloud.beforeLaunch = null
    expect(code, run.output.stdout).toBe(1)
    // The relaunch said at once that it found nothing, and was stopped there: terminated, not left to train from 0.
    // Attempt 1 is refused (no capacity in use1-az4); attempt 2 runs and is reclaimed after its checkpoint.
    expect(run.output.stdout).toMatch(/\[attempt 2\] checkpoint at step \d+/)
    expect(run.output.stdout).toMatch(/\[attempt 3\] started on .*, fresh\n\[attempt 3\] interrupted \(not resumable\)/)
    expect(run.output.stderr).toMatch(/checkpoint lost: the job reported a checkpoint at step \d+ durable, but the relaunched command found none/)
    expect(run.output.stderr).toContain("frugal run --resume emptied --from-scratch")
    expect(run.output.stderr).not.toMatch(/^\s+at\s/m)
    expect(cloud.running()).toEqual([])
    const third = ours()[1]
    expect(third?.attemptId).toBe("emptied-3")
    expect(third?.tags.get("frugal:resumed-from")).toBe("none")
    // Stopped before it finished: no result tags, so it never reached its last step.
    expect(third?.tags.get("frugal:final-step")).toBeUndefined()

    const over = start(["run", "--resume", "emptied", "--from-scratch"], home)
    const again = await Promise.race([over.exited, sleep(240_000).then(() => "timeout" as const)])
    expect(again, over.output.stderr).toBe(0)
    expect(over.output.stdout).toMatch(/started on .*, fresh/)
    expect(weightsHash(over.output.stdout)).toBe(referenceHash)
    expect(cloud.running()).toEqual([])
  }, 600_000)

  it("a job that is not interruptible goes on-demand where the quota allows, and one above every quota exits 3 naming the quota", async () => {
    const home = join(dir, "quota")
    const steady = workload("steady", "  interruptible: false\n")
    const dry = await runFrugal(["run", steady, "--infra", profileFile, "--catalog", catalogFile, "--dry-run", "--json"], { env: env(home) })
    expect(dry.code, dry.stderr).toBe(0)
    const placements = (JSON.parse(dry.stdout) as { placements: ReadonlyArray<{ region: string; purchaseOption: string }> }).placements
    expect(placements.map((p) => `${p.purchaseOption} ${p.region}`)).toEqual(["on-demand us-east-2", "on-demand us-east-2"])

    // Quotas are cached like prices: a fresh cache sees the new quota.
    cloud.setQuota("us-east-2", "L-DB2E81BA", 0)
    const refused = await runFrugal(["run", steady, "--infra", profileFile, "--catalog", catalogFile], { env: env(join(dir, "quota-none")) })
    cloud.setQuota("us-east-2", "L-DB2E81BA", 64)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toContain("quota L-DB2E81BA")
    expect(refused.stderr).not.toMatch(/^\s+at\s/m)
  }, 120_000)

  it("a bad profile exits 2 naming the field, and the ledger is left as it was", async () => {
    const home = join(dir, "chaos")
    const ledger = join(home, "ledger.sqlite")
    const before = statSync(ledger).mtimeMs
    const bad = join(dir, "bad-infra.yaml")
    writeFileSync(bad, readFileSync(profileFile, "utf8").replace("subnet-0b0b0b02", "subnet-0b0b0b02; touch /tmp/x").replace("region: us-east-1,", "region: mars-1,"))
    const result = await runFrugal(["run", workload("bad"), "--infra", bad, "--catalog", catalogFile], { env: env(home) })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("aws.checkpoints.region")
    expect(result.stderr).toContain("aws.regions.us-east-2.subnets")
    expect(result.stderr).not.toMatch(/^\s+at\s/m)
    expect(statSync(ledger).mtimeMs).toBe(before)
  })
})
