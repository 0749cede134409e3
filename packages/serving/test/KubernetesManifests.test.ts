/**
 * The Kubernetes objects of a service validate against the schemas `@kubernetes-models` packages: Kubernetes
 * OpenAPI v1.36 (kubernetes-models 5.1.0), KEDA's ScaledObject CRD (@kubernetes-models/keda 2.0.0) and Karpenter's
 * NodePool CRD (@kubernetes-models/karpenter 2.0.0); and carry the plan's figures field by field.
 */
import { NodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget"
import { Service } from "kubernetes-models/v1/Service"
import { decodeWorkloadFile, workloadsOf } from "@frugal/core"
import { EmbeddedCatalog, PriceCatalog } from "@frugal/pricing"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { planService, type ServicePlan, serviceManifests } from "../src/index.ts"

const example = readFileSync(fileURLToPath(new URL("../../../examples/service-chat.yaml", import.meta.url)), "utf8")

const planOf = (text: string): ServicePlan =>
  Effect.runSync(
    Effect.gen(function*() {
      const [workload] = workloadsOf(yield* decodeWorkloadFile(text, "service.yaml"))
      if (workload === undefined) throw new Error("one workload")
      const catalog = yield* (yield* PriceCatalog).catalog()
      return yield* planService(workload, "service.yaml", catalog)
    }).pipe(Effect.provide(EmbeddedCatalog.layer))
  )

describe("Kubernetes objects of the example service", () => {
  const plan = planOf(example)
  const manifests = serviceManifests(plan, undefined, { command: ["python3", "-m", "vllm.entrypoints.openai.api_server"], env: { HF_HOME: "/cache" } })

  it("validate against Kubernetes v1.36, KEDA's and Karpenter's schemas", () => {
    for (const pool of manifests.nodePools) expect(() => new NodePool(structuredClone(pool) as never).validate()).not.toThrow()
    for (const deployment of manifests.deployments) expect(() => new Deployment(structuredClone(deployment) as never).validate()).not.toThrow()
    expect(() => new Service(structuredClone(manifests.service) as never).validate()).not.toThrow()
    expect(() => new ScaledObject(structuredClone(manifests.scaledObject) as never).validate()).not.toThrow()
    expect(() => new PodDisruptionBudget(structuredClone(manifests.podDisruptionBudget) as never).validate()).not.toThrow()
  })

  it("the validator does reject a broken object (the check above can fail)", () => {
    const broken = { ...manifests.scaledObject, spec: { ...manifests.scaledObject.spec, scaleTargetRef: undefined } }
    expect(() => new ScaledObject(structuredClone(broken) as never).validate()).toThrow()
  })

  it("node pools over the plan's instance types and zones: on-demand only for the base, spot with on-demand fallback for the rest", () => {
    const [onDemand, spot] = manifests.nodePools
    expect(onDemand?.metadata.name).toBe("chat-8b-service-on-demand")
    expect(onDemand?.spec.template.spec.requirements).toEqual([
      { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
      { key: "node.kubernetes.io/instance-type", operator: "In", values: plan.replica.instanceTypes },
      { key: "topology.k8s.aws/zone-id", operator: "In", values: plan.zones.map((z) => z.zone) }
    ])
    expect(spot?.spec.template.spec.requirements[0]?.values).toEqual(["spot", "on-demand"])
    expect(spot?.spec.disruption.consolidationPolicy).toBe("WhenEmptyOrUnderutilized")
    expect(spot?.spec.limits).toEqual({ "nvidia.com/gpu": "39" })
  })

  it("the base deployment runs on the on-demand pool, the scaled one on the spot pool, both spread over zones.min zones", () => {
    const [base, scaled] = manifests.deployments
    expect(base?.metadata?.name).toBe("chat-8b-service-base")
    expect(base?.spec?.replicas).toBe(1)
    expect(base?.spec?.template.spec?.nodeSelector).toEqual({ "karpenter.sh/nodepool": "chat-8b-service-on-demand" })
    expect(scaled?.spec?.template.spec?.nodeSelector).toEqual({ "karpenter.sh/nodepool": "chat-8b-service-spot" })
    const spread = scaled?.spec?.template.spec?.topologySpreadConstraints?.[0]
    expect(spread).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", minDomains: 2, maxSkew: 1 })
    const container = scaled?.spec?.template.spec?.containers[0]
    expect(container?.resources?.limits).toEqual({ "nvidia.com/gpu": "1" })
    expect(container?.command).toEqual(["python3", "-m", "vllm.entrypoints.openai.api_server"])
    expect(container?.env).toEqual([{ name: "FRUGAL_SERVICE", value: "chat-8b-service" }, { name: "HF_HOME", value: "/cache" }])
    expect(container?.startupProbe?.failureThreshold).toBe(30)
  })

  it("KEDA scales the rest between min − base and max − base on in-flight requests, with the delays and the GPU guard", () => {
    const spec = manifests.scaledObject.spec
    expect([spec.minReplicaCount, spec.maxReplicaCount]).toEqual([1, 39])
    expect(spec.advanced.horizontalPodAutoscalerConfig.behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 60 },
      scaleDown: { stabilizationWindowSeconds: 600 }
    })
    expect(spec.triggers.map((t) => [t.name, t.metadata.threshold])).toEqual([["requests-in-flight", "8"], ["gpu-utilization-guard", "1"]])
    expect(spec.triggers[1]?.metadata.query).toContain("[15m:1m]) >= bool 30)")
    expect(manifests.podDisruptionBudget.spec?.minAvailable).toBe(2)
    expect(manifests.service.spec?.selector).toEqual({ "app.kubernetes.io/name": "chat-8b-service", "app.kubernetes.io/managed-by": "frugal" })
  })

  it("without an on-demand base there is one pool and one deployment, and every trigger of the spec", () => {
    const noBase = serviceManifests(planOf(example.replace("onDemandBase: 1", "onDemandBase: 0").replace(
      "requestsInFlightPerReplica: 8 }",
      "requestsInFlightPerReplica: 8, requestsPerSecondPerReplica: 0.5, queueDepthPerReplica: 2 }"
    )))
    expect(noBase.nodePools.map((p) => p.metadata.name)).toEqual(["chat-8b-service-spot"])
    expect(noBase.deployments.map((d) => d.metadata?.name)).toEqual(["chat-8b-service"])
    expect(noBase.scaledObject.spec.triggers.map((t) => t.name)).toEqual(["requests-in-flight", "requests-per-second", "queue-depth", "gpu-utilization-guard"])
    for (const pool of noBase.nodePools) expect(() => new NodePool(structuredClone(pool) as never).validate()).not.toThrow()
    expect(() => new ScaledObject(structuredClone(noBase.scaledObject) as never).validate()).not.toThrow()
  })
})
