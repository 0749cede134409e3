/**
 * Every manifest the Kubernetes engine generates validates against the Kubernetes OpenAPI schema as packaged
 * by `kubernetes-models` 5.1.0 (generated from the Kubernetes v1.36 OpenAPI spec; its validators are the
 * package's own, compiled from that spec). Also the CLI's `--dry-run` on the two-node H100 example.
 */
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim"
import { Service } from "kubernetes-models/v1/Service"
import { Job } from "kubernetes-models/batch/v1/Job"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import type { AttemptRequest } from "@frugal/runner"
import { attemptManifests, defaultKubernetesSettings, dnsLabel, type KubernetesSettings } from "@frugal/runner-kubernetes"

export const SCHEMA = "kubernetes-models 5.1.0 (Kubernetes OpenAPI v1.36)"

const request = (overrides: Partial<AttemptRequest["placement"]> = {}): AttemptRequest => ({
  jobId: "llama-7b-20261123-070000-ab12",
  attemptId: "llama-7b-20261123-070000-ab12-3",
  placement: {
    instanceType: "p5.48xlarge",
    region: "us-east-1",
    availabilityZone: "use1-az4",
    purchaseOption: "spot",
    hourlyPriceUsd: 40,
    instanceCount: 2,
    accelerator: "H100",
    acceleratorsPerInstance: 8,
    interruptionsPerHour: 0.05,
    ...overrides
  },
  launch: {
    argv: ["/usr/bin/python3", "-m", "frugal_trainer", "--max-steps", "100"],
    env: { PYTHONPATH: "/home/me/frugal/packages/trainer", HF_HOME: "/cache" },
    workdir: "/home/me",
    checkpointDir: "/home/me/.local/share/frugal/jobs/x/checkpoints"
  },
  checkpointEverySeconds: 600,
  logPath: "/dev/null"
})

/** A python whose PyTorch has torchrun's argument parser (Debian's python3-torch in CI); null where there is none. */
const torchPython = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import torch.distributed.run"], { encoding: "utf8" }).status === 0
) ?? null

const validate = (manifests: ReturnType<typeof attemptManifests>) => {
  new PersistentVolumeClaim(manifests.claim as never).validate()
  new Job(manifests.job as never).validate()
  if (manifests.service !== null) new Service(manifests.service as never).validate()
}

describe(`Kubernetes manifests validate against ${SCHEMA}`, () => {
  it("a two-node spot attempt: Indexed Job, headless Service, GPU limits, zone and capacity selectors", () => {
    const manifests = attemptManifests(request(), defaultKubernetesSettings)
    expect(() => validate(manifests)).not.toThrow()
    const spec = manifests.job.spec
    expect(spec?.completionMode).toBe("Indexed")
    expect(spec?.completions).toBe(2)
    expect(spec?.podFailurePolicy?.rules).toEqual([
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      { action: "FailJob", onExitCodes: { containerName: "trainer", operator: "NotIn", values: [0, 75] } }
    ])
    const pod = spec?.template.spec
    expect(pod?.restartPolicy).toBe("Never")
    expect(pod?.terminationGracePeriodSeconds).toBe(300)
    expect(pod?.nodeSelector).toEqual({
      "karpenter.sh/capacity-type": "spot",
      "topology.k8s.aws/zone-id": "use1-az4",
      "node.kubernetes.io/instance-type": "p5.48xlarge",
      "karpenter.k8s.aws/instance-gpu-name": "h100"
    })
    expect(pod?.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }])
    expect(pod?.subdomain).toBe(manifests.service?.metadata?.name)
    const container = pod?.containers[0]
    expect(container?.resources?.limits).toEqual({ "nvidia.com/gpu": "8" })
    // The shared torchrun argv (runner's Torchrun.ts): 2 nodes of 8 processes meeting at pod 0.
    expect(container?.command?.slice(0, 12)).toEqual([
      "torchrun",
      "--nnodes",
      "2",
      "--rdzv_backend",
      "c10d",
      "--rdzv_endpoint",
      `${manifests.job.metadata?.name}-0.${manifests.job.metadata?.name}.default.svc:29500`,
      "--rdzv_id",
      `${manifests.job.metadata?.name}`,
      "--nproc_per_node",
      "8",
      "--no_python"
    ])
    expect(container?.command?.slice(12)).toEqual(["python3", "-m", "frugal_trainer", "--max-steps", "100"])
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]))
    expect(env["PYTHONPATH"]).toBeUndefined()
    expect(env["FRUGAL_CHECKPOINT_DIR"]).toBe("/checkpoints/llama-7b-20261123-070000-ab12")
    expect(env["FRUGAL_CHECKPOINT_EVERY_SECONDS"]).toBe("600")
    expect(manifests.service?.spec?.clusterIP).toBe("None")
    expect(manifests.claim.spec?.accessModes).toEqual(["ReadWriteMany"])
  })

  it.skipIf(torchPython === null)("its torchrun arguments parse with the installed torchrun (underscore flags, which PyTorch 1.x needs)", () => {
    const command = attemptManifests(request(), defaultKubernetesSettings).job.spec?.template.spec?.containers[0]?.command ?? []
    const parse = "import json, sys; from torch.distributed.run import parse_args; a = parse_args(sys.argv[1:]); " +
      "print(json.dumps([a.nnodes, a.nproc_per_node, a.rdzv_backend, a.no_python, a.training_script]))"
    const result = spawnSync(torchPython ?? "python3", ["-c", parse, ...command.slice(1)], { encoding: "utf8" })
    expect(result.stderr).not.toMatch(/unrecognized arguments/)
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null")).toEqual(["2", "8", "c10d", true, "python3"])
  })

  it("a one-node on-demand CPU attempt on EKS managed nodes with a zone name and custom tolerations", () => {
    const settings: KubernetesSettings = {
      ...defaultKubernetesSettings,
      namespace: "ml",
      capacityTypeLabel: "eks",
      extraTolerations: [{ key: "dedicated", operator: "Equal", value: "training", effect: "NoExecute" }],
      checkpointStorageClass: "efs-sc",
      imagePullPolicy: "IfNotPresent",
      serviceAccountName: "trainer"
    }
    const manifests = attemptManifests(
      request({ instanceCount: 1, acceleratorsPerInstance: 0, purchaseOption: "on-demand" }),
      { ...settings, zoneNames: { "use1-az4": "us-east-1a" } }
    )
    expect(() => validate(manifests)).not.toThrow()
    expect(manifests.service).toBeNull()
    expect(manifests.job.spec?.completionMode).toBeUndefined()
    expect(manifests.job.spec?.template.spec?.nodeSelector).toEqual({
      "eks.amazonaws.com/capacityType": "ON_DEMAND",
      "topology.kubernetes.io/zone": "us-east-1a",
      "node.kubernetes.io/instance-type": "p5.48xlarge"
    })
    expect(manifests.job.spec?.template.spec?.containers[0]?.resources).toBeUndefined()
  })

  it("the schema catches a broken manifest (the validation is not vacuous)", () => {
    const manifests = attemptManifests(request(), defaultKubernetesSettings)
    const broken = { ...manifests.job, spec: { ...manifests.job.spec, backoffLimit: "many" } }
    expect(() => new Job(broken as never).validate()).toThrow(/backoffLimit/)
  })

  it("names stay valid DNS labels however long or odd the job id", () => {
    const label = dnsLabel("Frugal_JOB.with spaces-and-a-very-long-name-that-goes-on-and-on-and-on-forever-1", 52)
    expect(label.length).toBeLessThanOrEqual(52)
    expect(label).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/)
  })
})

describe("frugal run --runner kubernetes --dry-run", () => {
  it(`prints a PVC, a headless Service and an Indexed Job for the 2-node H100 example, each valid against ${SCHEMA}`, () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url))
    const run = spawnSync(process.execPath, [
      `${root}packages/cli/bin/frugal.js`,
      "run",
      `${root}examples/cluster/h100-2node.yaml`,
      "--runner",
      "kubernetes",
      "--dry-run",
      "--job-id",
      "h100-demo"
    ], { encoding: "utf8", env: { ...process.env, FRUGAL_HOME: "/tmp/frugal-k8s-dry-run", FRUGAL_K8S_NAMESPACE: "training", FRUGAL_K8S_IMAGE: "ghcr.io/acme/trainer:1.0" } })
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    const docs = parseAllDocuments(run.stdout).map((doc) => doc.toJS() as { kind: string })
    expect(docs.map((doc) => doc.kind)).toEqual(["PersistentVolumeClaim", "Service", "Job"])
    const [claim, service, job] = docs
    expect(() => new PersistentVolumeClaim(claim as never).validate()).not.toThrow()
    expect(() => new Service(service as never).validate()).not.toThrow()
    expect(() => new Job(job as never).validate()).not.toThrow()
    expect(run.stdout).toContain("nvidia.com/gpu: \"8\"")
    expect(run.stdout).toContain("completions: 2")
    expect(run.stdout).toContain("karpenter.sh/capacity-type: spot")
  })
})
