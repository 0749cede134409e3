/**
 * No value of a workload or an infrastructure profile can start a command, a directive or a manifest key in what the
 * engines generate. Adversarial strings (line breaks, CR, quotes, `$()`, backticks, `#`, NUL, 64 KiB, `$(VAR)` for
 * the kubelet) go into every workload and profile field that reaches generated text; each value is either refused
 * when the workload or profile is decoded, or it reaches:
 * - the EC2 user data and the Slurm batch script only inside quoted words: `bash -n` accepts the script, and with
 *   every quoted word replaced by one placeholder the script is the same, line for line, as with a harmless value
 *   (so the value added no command, no line and no `#SBATCH` directive);
 * - the Kubernetes manifests only as values: the same keys as with a harmless value, and command, args and env
 *   arrive verbatim once the kubelet has read `$$` as `$`.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { decodeInfraProfile, decodeWorkloadFile, type InfraProfile, workloadsOf } from "@frugal/core"
import { type AttemptRequest, launchForWorkload, localPlacement, type Placement } from "@frugal/runner"
import { ec2SettingsFromProfile, Ec2Runner } from "@frugal/runner-ec2"
import { attemptManifests, kubernetesEngineSettings } from "@frugal/runner-kubernetes"
import { slurmEngineSettings, SlurmRunner } from "@frugal/runner-slurm"

const dir = mkdtempSync(join(tmpdir(), "frugal-generated-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Strings meant to break out of a quoted word, a line, a directive or a YAML value. */
const HOSTILE = [
  "a\nb",
  "a\r\nrm -rf /",
  "it's",
  "say \"hi\"",
  "$(touch /tmp/frugal-pwned)",
  "`touch /tmp/frugal-pwned`",
  "x; touch /tmp/frugal-pwned",
  "# a comment",
  "\n#SBATCH --partition=evil\n",
  "a\u0000b",
  "x".repeat(65_536),
  "x".repeat(65_537),
  "$(HOME) and $$ and ${PATH}",
  "\\'\\\"\\n",
  "key: value\nother: 1",
  "- item",
  "{ \"a\": 1 }",
  " leading space"
]
const hostile = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.array(fc.constantFrom("a", "'", "\"", "$", "(", ")", "`", "\n", "\r", "#", ";", "\\", " ", "\t", "|", "&", "{", "}", ":"), { minLength: 1, maxLength: 24 })
    .map((chars) => chars.join(""))
    // A plain word ("a", "aa") is harmless by construction and may be written bare, so it says nothing here.
    .filter((value) => /[^A-Za-z0-9_]/.test(value))
)

const decodeWorkload = (value: object) => {
  const exit = Effect.runSyncExit(decodeWorkloadFile(JSON.stringify(value), "workload.json"))
  if (Exit.isFailure(exit)) return null
  return workloadsOf(exit.value)[0] ?? null
}
const decodeProfile = (value: object): InfraProfile | null => {
  const exit = Effect.runSyncExit(decodeInfraProfile(JSON.stringify(value), "infra.json"))
  return Exit.isFailure(exit) ? null : exit.value
}

const SAFE = "SAFE"

/** The fields of a workload that reach generated text, each set to `value`. */
const WORKLOAD_FIELDS: ReadonlyArray<readonly [string, (value: string) => object]> = [
  ["run.command[1]", (value) => ({ command: ["python3", value, "--flag"] })],
  ["run.command[0]", (value) => ({ command: [value, "train.py"] })],
  ["run.env value", (value) => ({ command: ["python3", "train.py"], env: { HF_HOME: value } })],
  ["run.env name", (value) => ({ command: ["python3", "train.py"], env: { [value]: "1" } })],
  ["run.workdir", (value) => ({ command: ["python3", "train.py"], workdir: `/srv/${value}` })],
  ["run.checkpointDir", (value) => ({ command: ["python3", "train.py"], checkpointDir: `/ckpt/${value}` })]
]

const workloadWith = (run: object, name = "gen-text") => ({
  name,
  kind: "training",
  model: { parameters: "1B" },
  training: { tokens: "1B" },
  run
})

const BASE_PROFILE = {
  aws: {
    checkpoints: { uri: "s3://acme-ckpt/frugal", region: "us-east-1", kmsKeyId: "alias/frugal" },
    setup: ["git clone --depth 1 https://example.invalid/acme/train.git /opt/train"],
    regions: { "us-east-1": { subnets: { "use1-az4": "subnet-0abc1234" }, image: "ami-0123456789abcdef0", instanceProfile: "frugal-node" } }
  },
  slurm: [{ name: "lab", outputDirectory: "/shared/frugal", partitions: [{ name: "gpu", accelerator: "H100", gpusPerNode: 8, nodes: 4, hourlyPriceUsd: 9, account: "ml", qos: "normal" }] }],
  kubernetes: [{ name: "prod", namespace: "ml", image: "ghcr.io/acme/train:1", serviceAccount: "trainer", pools: [{ name: "h100", accelerator: "H100", gpusPerNode: 8, capacityType: "spot", hourlyPriceUsd: 30 }] }]
}

/** The fields of a profile that reach generated text, each set to `value`. */
const PROFILE_FIELDS: ReadonlyArray<readonly [string, (value: string) => object]> = [
  ["aws.checkpoints.uri", (value) => ({ ...BASE_PROFILE, aws: { ...BASE_PROFILE.aws, checkpoints: { ...BASE_PROFILE.aws.checkpoints, uri: `s3://acme-ckpt/${value}` } } })],
  ["aws.checkpoints.kmsKeyId", (value) => ({ ...BASE_PROFILE, aws: { ...BASE_PROFILE.aws, checkpoints: { ...BASE_PROFILE.aws.checkpoints, kmsKeyId: `alias/${value}` } } })],
  ["aws.setup[0]", (value) => ({ ...BASE_PROFILE, aws: { ...BASE_PROFILE.aws, setup: [`echo ${value}`] } })],
  ["slurm[0].outputDirectory", (value) => ({ ...BASE_PROFILE, slurm: [{ ...BASE_PROFILE.slurm[0], outputDirectory: `/shared/${value}` }] })],
  ["slurm[0].partitions[0].name", (value) => ({ ...BASE_PROFILE, slurm: [{ ...BASE_PROFILE.slurm[0], partitions: [{ ...BASE_PROFILE.slurm[0]?.partitions[0], name: value }] }] })],
  ["slurm[0].partitions[0].account", (value) => ({ ...BASE_PROFILE, slurm: [{ ...BASE_PROFILE.slurm[0], partitions: [{ ...BASE_PROFILE.slurm[0]?.partitions[0], account: value }] }] })],
  ["kubernetes[0].namespace", (value) => ({ ...BASE_PROFILE, kubernetes: [{ ...BASE_PROFILE.kubernetes[0], namespace: value }] })],
  ["kubernetes[0].image", (value) => ({ ...BASE_PROFILE, kubernetes: [{ ...BASE_PROFILE.kubernetes[0], image: value }] })],
  ["kubernetes[0].serviceAccount", (value) => ({ ...BASE_PROFILE, kubernetes: [{ ...BASE_PROFILE.kubernetes[0], serviceAccount: value }] })]
]

/** What each engine generates for the first attempt of a job with this workload and profile. */
const generate = (run: object, profile: InfraProfile, placement: "ec2" | "slurm" | "kubernetes") => {
  const workload = decodeWorkload(workloadWith(run))
  if (workload === null) return null
  const launch = Effect.runSync(launchForWorkload(workload, join(dir, "workload.json"), {
    workloadDirectory: dir,
    defaultCheckpointDir: join(dir, "checkpoints"),
    referenceTrainer: Effect.succeed({ python: "/usr/bin/python3", pythonPath: dir })
  }))
  const base: Placement = { ...localPlacement(1), accelerator: "H100", acceleratorsPerInstance: 1, instanceCount: 1 }
  const request = (p: Placement): AttemptRequest => ({
    jobId: "gen-text-1",
    attemptId: "gen-text-1-1",
    placement: p,
    launch,
    checkpointEverySeconds: 600,
    logPath: join(dir, "log")
  })
  switch (placement) {
    case "ec2": {
      const aws = profile.aws
      if (aws?.checkpoints === undefined) return null
      const settings = ec2SettingsFromProfile({ ...aws, checkpoints: aws.checkpoints })
      const region = settings.regions["us-east-1"]
      if (region === undefined) return null
      const input = Ec2Runner.runInstancesInput(settings, region, request({ ...base, runner: "ec2", instanceType: "p5.48xlarge", region: "us-east-1", availabilityZone: "use1-az4", purchaseOption: "spot" }))
      return { kind: "bash" as const, text: Buffer.from(input.UserData ?? "", "base64").toString("utf8"), argv: launch.argv }
    }
    case "slurm": {
      const settings = Effect.runSync(slurmEngineSettings(profile, {}, 0))
      const partition = profile.slurm?.[0]?.partitions[0]?.name ?? "gpu"
      return {
        kind: "bash" as const,
        text: SlurmRunner.scriptFor(settings.options, request({ ...base, runner: "slurm", pool: `lab/${partition}`, instanceType: `slurm:lab/${partition}`, region: "slurm:lab", purchaseOption: "on-demand" })),
        argv: launch.argv
      }
    }
    case "kubernetes": {
      const settings = Effect.runSync(kubernetesEngineSettings(profile, {}, 0, "spot"))
      const cluster = settings.clusters["prod"]
      if (cluster === undefined) return null
      const manifests = attemptManifests(request({ ...base, runner: "kubernetes", pool: "prod/h100", instanceType: "kubernetes:prod/h100", region: "us-east-1", purchaseOption: "spot" }), cluster.settings)
      return { kind: "yaml" as const, documents: [manifests.claim, manifests.service, manifests.job].filter((d) => d !== null), argv: launch.argv, env: launch.env }
    }
  }
}

/** The script with every single-quoted word (and `\'` joining quoted pieces) replaced by one placeholder. */
const skeleton = (script: string): string => script.replace(/(?:'[^']*'|\\')+/g, "Q")

const bashAccepts = (script: string): boolean => {
  const file = join(dir, `script-${Math.random().toString(16).slice(2)}.sh`)
  writeFileSync(file, script)
  return spawnSync("bash", ["-n", file]).status === 0
}

/** Every key path of a manifest (array entries by index), to compare shapes. */
const keyPaths = (value: unknown, prefix = ""): ReadonlyArray<string> => {
  if (Array.isArray(value)) return value.flatMap((item, index) => keyPaths(item, `${prefix}[${index}]`))
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [`${prefix}.${key}`, ...keyPaths(item, `${prefix}.${key}`)])
  }
  return []
}

/** What the kubelet passes on: `$$` read as `$`. */
const kubelet = (text: string): string => text.replaceAll("$$", "$")

/** Checks one generated text against the same generation for a harmless value. */
const sameShape = (adversarial: ReturnType<typeof generate>, harmless: ReturnType<typeof generate>) => {
  if (adversarial === null || harmless === null) throw new Error("both must generate")
  if (adversarial.kind === "bash" && harmless.kind === "bash") {
    expect(bashAccepts(adversarial.text), adversarial.text.slice(0, 3000)).toBe(true)
    expect(skeleton(adversarial.text).split("\n")).toEqual(skeleton(harmless.text).split("\n"))
    // sbatch reads #SBATCH directives until the first line that is neither a comment nor blank.
    const directives = (text: string) => {
      const lines = text.split("\n")
      const end = lines.findIndex((line, index) => index > 0 && line.trim() !== "" && !line.startsWith("#"))
      return lines.slice(0, end < 0 ? lines.length : end).filter((line) => line.startsWith("#SBATCH"))
    }
    expect(directives(adversarial.text)).toEqual(directives(harmless.text))
    return
  }
  if (adversarial.kind === "yaml" && harmless.kind === "yaml") {
    // Through YAML and back, as kubectl and the API server read it.
    const text = adversarial.documents.map((d) => JSON.stringify(d)).join("\n---\n")
    const parsed: ReadonlyArray<unknown> = parseAllDocuments(text).map((document) => document.toJS() as unknown)
    expect(parsed).toEqual(adversarial.documents)
    expect(adversarial.documents.flatMap((d) => keyPaths(d))).toEqual(harmless.documents.flatMap((d) => keyPaths(d)))
    const container = (adversarial.documents.at(-1) as unknown as { spec: { template: { spec: { containers: Array<{ command: Array<string>; env: Array<{ name: string; value: string }> }> } } } })
      .spec.template.spec.containers[0]
    const [program, ...rest] = adversarial.argv
    expect(container?.command.map(kubelet)).toEqual([/^\/.*\/python3?(\.\d+)?$/.test(program ?? "") ? "python3" : program, ...rest])
    for (const [name, value] of Object.entries(adversarial.env)) {
      if (name === "PYTHONPATH") continue
      expect(container?.env.find((e) => e.name === name)?.value).toBe(value.split("$").join("$$"))
    }
    return
  }
  throw new Error("kinds differ")
}

const ENGINES = ["ec2", "slurm", "kubernetes"] as const

describe("no workload or profile value can start a command, a directive or a manifest key", () => {
  const baseProfile = decodeProfile(BASE_PROFILE)
  if (baseProfile === null) throw new Error("the base profile must decode")

  for (const [field, make] of WORKLOAD_FIELDS) {
    it(`workload ${field}: refused at decode, or quoted in the user data and batch script and verbatim in the manifests`, () => {
      fc.assert(
        fc.property(hostile, (value) => {
          const refused = decodeWorkload(workloadWith(make(value))) === null
          if (value.includes("\u0000")) expect(refused).toBe(true)
          // An environment name is a shell word of letters, digits and '_' (at most 256), or refused.
          if (field === "run.env name") expect(refused).toBe(!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(value))
          if (refused) return
          for (const engine of ENGINES) sameShape(generate(make(value), baseProfile, engine), generate(make(SAFE), baseProfile, engine))
        }),
        { numRuns: 40, examples: HOSTILE.map((value) => [value]) }
      )
    })
  }

  for (const [field, make] of PROFILE_FIELDS) {
    it(`profile ${field}: refused at decode, or quoted in what the engines generate`, () => {
      fc.assert(
        fc.property(hostile, (value) => {
          const profile = decodeProfile(make(value))
          if (profile === null) return
          const harmless = decodeProfile(make(SAFE.toLowerCase()))
          if (harmless === null) throw new Error(`${field} must accept a harmless value`)
          for (const engine of ENGINES) {
            sameShape(generate({ command: ["python3", "train.py"] }, profile, engine), generate({ command: ["python3", "train.py"] }, harmless, engine))
          }
        }),
        { numRuns: 40, examples: HOSTILE.map((value) => [value]) }
      )
    })
  }
})
