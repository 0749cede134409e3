/**
 * Inference services that scale themselves (docs/serving.md), as the CLI's `frugal service plan|simulate|apply|status`
 * and the SDK's `service.*` run them: a plan (replica type, zones, on-demand base and spot, monthly cost), a replay
 * against request and spot traces, and the engines (an EC2 Auto Scaling group, or the Kubernetes objects).
 * `@frugal/serving/aws` (the AWS SDK) is loaded only when an Auto Scaling group is created, changed or read.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { InvalidInput, type NoFeasiblePlacement, type RemoteServiceFailure, type Workload } from "@frugal/core"
import type { PriceCatalog } from "@frugal/pricing"
import {
  defaultServiceKubernetesSettings,
  isPolicyName,
  manifestList,
  planService,
  type PolicyName,
  POLICY_NAMES as SERVICE_POLICY_NAMES,
  type ServiceInfra,
  type ServicePlan,
  serviceManifests,
  type ServiceSimulationReport,
  simulateServiceWorkload
} from "@frugal/serving"
import type { ApplyOutcome, AutoScalingRequests, DeleteOutcome, ServiceStatus } from "@frugal/serving/aws"
import type { Environment } from "../Catalogs.ts"
import type { WorkloadInput } from "../WorkloadInput.ts"
import { readRequestTrace, readSpotTraces, serviceCatalog, serviceInfra, serviceWorkload } from "./ServiceInputs.ts"

export { SERVICE_POLICY_NAMES }

export interface ServicePlanRequest {
  /** Where the workload came from, for errors (a file name; default `workload`). */
  readonly source?: string | undefined
  /** A request trace (CSV path) whose request mix sizes the replicas. */
  readonly requests?: string | undefined
}

/** `frugal service plan --json`: the service's plan. */
export const servicePlanReport = Effect.fn("Frugal.service.plan")(function*(
  workload: WorkloadInput,
  request: ServicePlanRequest = {}
): Effect.fn.Return<ServicePlan, InvalidInput | NoFeasiblePlacement | RemoteServiceFailure, PriceCatalog> {
  const source = request.source ?? "workload"
  const decoded = yield* serviceWorkload(workload, source)
  const trace = request.requests === undefined ? null : yield* readRequestTrace(request.requests)
  const catalog = yield* serviceCatalog
  return yield* planService(decoded, source, catalog, { mix: trace?.mix ?? undefined })
})

export interface ServiceSimulationRequest {
  readonly source?: string | undefined
  /** Request trace: `TIMESTAMP,ContextTokens,GeneratedTokens` (Azure LLM trace) or `minute,requests`. */
  readonly requests: string
  /** Directory (or file) of spot availability traces named after their zones. */
  readonly spotTraces: string
  /** Multiply the request rate (default 1). */
  readonly rateScale?: number | undefined
  /** Policies to compare, as a list or comma-separated (default: all of `SERVICE_POLICY_NAMES`). */
  readonly policies?: string | ReadonlyArray<string> | undefined
  /** Days to replay (default 7). */
  readonly days?: number | undefined
  /** Hour of the spot traces the replay starts at (default 0). */
  readonly startHour?: number | undefined
  /** Load of the quietest hour as a share of the busiest (default 0.3). */
  readonly dailyTrough?: number | undefined
  /** Busiest hour of the day, UTC (default 18.75). */
  readonly peakHourUtc?: number | undefined
  /** On-demand base of the skyserve and spothedge baselines (default: the service's onDemandBase). */
  readonly baselineOnDemandBase?: number | undefined
}

interface SimulationSettings {
  readonly requests: string
  readonly spotTraces: string
  readonly rateScale: number
  readonly policies: ReadonlyArray<PolicyName>
  readonly days: number
  readonly startHour: number
  readonly dailyTrough: number
  readonly peakHourUtc: number
  readonly baselineOnDemandBase: number | undefined
}

const checkSimulation = (request: ServiceSimulationRequest): Effect.Effect<SimulationSettings, InvalidInput> => {
  const issues: Array<{ path: string; expected: string; actual: string }> = []
  const given = request.policies ?? SERVICE_POLICY_NAMES
  const names = (typeof given === "string" ? given.split(",") : given).map((n) => n.trim()).filter((n) => n !== "")
  const policies = names.filter(isPolicyName)
  if (names.length === 0 || policies.length !== names.length) {
    issues.push({ path: "policies", expected: `comma-separated names from ${SERVICE_POLICY_NAMES.join(", ")}`, actual: typeof given === "string" ? given : names.join(",") })
  }
  const settings: SimulationSettings = {
    requests: request.requests,
    spotTraces: request.spotTraces,
    rateScale: request.rateScale ?? 1,
    policies,
    days: request.days ?? 7,
    startHour: request.startHour ?? 0,
    dailyTrough: request.dailyTrough ?? 0.3,
    peakHourUtc: request.peakHourUtc ?? 18.75,
    baselineOnDemandBase: request.baselineOnDemandBase
  }
  const range = (field: string, value: number, ok: boolean, expected: string) => {
    if (!ok) issues.push({ path: field, expected, actual: String(value) })
  }
  range("rateScale", settings.rateScale, settings.rateScale > 0 && settings.rateScale <= 1e4, "a number above 0 and at most 10,000")
  range("days", settings.days, settings.days >= 1 / 1440 && settings.days <= 366, "a number of days above 0 and at most 366")
  range("startHour", settings.startHour, settings.startHour >= 0, "hours into the spot traces, 0 or more")
  range("dailyTrough", settings.dailyTrough, settings.dailyTrough >= 0 && settings.dailyTrough <= 1, "a share from 0 to 1")
  range("peakHourUtc", settings.peakHourUtc, settings.peakHourUtc >= 0 && settings.peakHourUtc < 24, "an hour from 0 to below 24")
  if (settings.baselineOnDemandBase !== undefined) {
    range("baselineOnDemandBase", settings.baselineOnDemandBase, Number.isInteger(settings.baselineOnDemandBase) && settings.baselineOnDemandBase >= 0, "a whole number of replicas, 0 or more")
  }
  return issues.length === 0
    ? Effect.succeed(settings)
    : Effect.fail(new InvalidInput({ source: issues.map((i) => i.path).join(", "), issues }))
}

/** `frugal service simulate --json`: every policy on the traces, with the settings used. */
export const serviceSimulation = Effect.fn("Frugal.service.simulate")(function*(
  workload: WorkloadInput,
  request: ServiceSimulationRequest
): Effect.fn.Return<ServiceSimulationReport, InvalidInput | NoFeasiblePlacement | RemoteServiceFailure, PriceCatalog> {
  const settings = yield* checkSimulation(request)
  const source = request.source ?? "workload"
  const decoded = yield* serviceWorkload(workload, source)
  const requests = yield* readRequestTrace(settings.requests)
  const spotTraces = yield* readSpotTraces(settings.spotTraces)
  const catalog = yield* serviceCatalog
  return yield* simulateServiceWorkload({
    workload: decoded,
    workloadSource: source,
    requests,
    spotTraces,
    spotTracesSource: settings.spotTraces,
    catalog,
    policies: settings.policies,
    rateScale: settings.rateScale,
    days: settings.days,
    startHours: settings.startHour,
    profile: { peakHourUtc: settings.peakHourUtc, troughShare: settings.dailyTrough },
    baselines: settings.baselineOnDemandBase === undefined ? {} : { onDemandBase: settings.baselineOnDemandBase }
  })
})

export type ServiceEngine = "ec2-asg" | "kubernetes"

export interface ServiceEngineRequest {
  readonly source?: string | undefined
  readonly engine: ServiceEngine
  /** The infrastructure profile (`--infra`); absent: FRUGAL_INFRA, else `$XDG_CONFIG_HOME/frugal/infra.yaml`. */
  readonly infra?: string | undefined
  readonly env: Environment
}

/** The workload's plan, in one of the regions the profile has subnets in (and the workload allows). */
const planOnInfra = (workload: WorkloadInput, request: ServiceEngineRequest) =>
  Effect.gen(function*() {
    const source = request.source ?? "workload"
    const decoded = yield* serviceWorkload(workload, source)
    const { infra, path } = yield* serviceInfra(request.infra, request.env)
    const profileRegions = Object.keys(infra.aws?.regions ?? {}).sort()
    const allowed = decoded.constraints.regions
    const regions = profileRegions.filter((region) => allowed === undefined || allowed.includes(region))
    const [first, ...rest] = regions
    if (first === undefined) {
      return yield* new InvalidInput({
        source: path,
        issues: [{ path: "aws.regions", expected: `a region with subnets${allowed === undefined ? "" : ` among constraints.regions (${allowed.join(", ")})`}`, actual: profileRegions.join(", ") || "none" }]
      })
    }
    const constrained: Workload = decoded.kind === "inference" ? { ...decoded, constraints: { ...decoded.constraints, regions: [first, ...rest] } } : decoded
    const plan = yield* planService(constrained, source, yield* serviceCatalog)
    return { plan, infra, infraPath: path, workload: decoded }
  })

export interface ServiceApplyRequest extends ServiceEngineRequest {
  /** Print what would be created and change nothing (Kubernetes: the objects for `kubectl apply -f -`). */
  readonly dryRun?: boolean | undefined
  /** Delete the service (group, policies, alarms). */
  readonly delete?: boolean | undefined
  /** Kubernetes: the serving image (default FRUGAL_SERVE_IMAGE, else vLLM's OpenAI server). */
  readonly image?: string | undefined
  /** Kubernetes: the Prometheus server KEDA reads the load from (default FRUGAL_PROMETHEUS_URL, else in-cluster). */
  readonly prometheusUrl?: string | undefined
}

/** What `frugal service apply` did, or would do. Its `--json` prints `objects`, `requests` or `outcome`. */
export type ServiceApplyResult =
  | { readonly engine: "kubernetes"; readonly action: "print"; readonly objects: ReadonlyArray<object> }
  | { readonly engine: "ec2-asg"; readonly action: "print"; readonly requests: AutoScalingRequests }
  | { readonly engine: "ec2-asg"; readonly action: "apply"; readonly outcome: ApplyOutcome }
  | { readonly engine: "ec2-asg"; readonly action: "delete"; readonly dryRun: true; readonly groupName: string; readonly region: string }
  | { readonly engine: "ec2-asg"; readonly action: "delete"; readonly dryRun: false; readonly outcome: DeleteOutcome }

const awsEngine = Effect.promise(async () => {
  const [aws, pricing] = await Promise.all([import("@frugal/serving/aws"), import("@frugal/pricing/aws")])
  return { aws, layer: Layer.merge(aws.ServiceAwsClients.layer, pricing.AwsCallSettingsFromEnv) }
})

const kubernetesObjects = (plan: ServicePlan, infra: ServiceInfra, workload: Workload, request: ServiceApplyRequest): ReadonlyArray<object> => {
  const cluster = infra.kubernetes?.[0]
  const manifests = serviceManifests(plan, {
    ...defaultServiceKubernetesSettings,
    namespace: cluster?.namespace ?? defaultServiceKubernetesSettings.namespace,
    nodeClass: cluster?.nodeClass ?? defaultServiceKubernetesSettings.nodeClass,
    image: request.image ?? request.env["FRUGAL_SERVE_IMAGE"] ?? defaultServiceKubernetesSettings.image,
    prometheusUrl: request.prometheusUrl ?? request.env["FRUGAL_PROMETHEUS_URL"] ?? defaultServiceKubernetesSettings.prometheusUrl
  }, { command: workload.run?.command, env: workload.run?.env })
  return manifestList(manifests)
}

/** Creates or updates the service on an engine, deletes it, or (dry run) says what it would send. */
export const serviceApply = Effect.fn("Frugal.service.apply")(function*(
  workload: WorkloadInput,
  request: ServiceApplyRequest
): Effect.fn.Return<ServiceApplyResult, InvalidInput | NoFeasiblePlacement | RemoteServiceFailure, PriceCatalog> {
  if (request.engine === "kubernetes") {
    if (request.dryRun !== true || request.delete === true) {
      return yield* new InvalidInput({
        source: "--engine kubernetes",
        issues: [{ path: "--dry-run", expected: "--dry-run: the objects are printed for kubectl apply -f - (applying them through the API is not built yet)" }]
      })
    }
    const { plan, infra, workload: decoded } = yield* planOnInfra(workload, request)
    return { engine: "kubernetes", action: "print", objects: kubernetesObjects(plan, infra, decoded, request) }
  }
  const { plan, infra, infraPath } = yield* planOnInfra(workload, request)
  const { aws, layer } = yield* awsEngine
  const requests = yield* aws.autoScalingRequests(plan, infra, infraPath)
  if (request.dryRun === true && request.delete !== true) return { engine: "ec2-asg", action: "print", requests }
  if (request.delete === true) {
    if (request.dryRun === true) {
      return { engine: "ec2-asg", action: "delete", dryRun: true, groupName: requests.group.AutoScalingGroupName ?? aws.groupName(plan), region: plan.region }
    }
    const outcome = yield* aws.deleteAutoScaling(plan.region, aws.groupName(plan)).pipe(Effect.provide(layer), Effect.scoped)
    return { engine: "ec2-asg", action: "delete", dryRun: false, outcome }
  }
  const outcome = yield* aws.applyAutoScaling(requests).pipe(Effect.provide(layer), Effect.scoped)
  return { engine: "ec2-asg", action: "apply", outcome }
})

/** `frugal service status --json`: desired and ready replicas of the Auto Scaling group, by market and zone. */
export const serviceStatus = Effect.fn("Frugal.service.status")(function*(
  workload: WorkloadInput,
  request: ServiceEngineRequest
): Effect.fn.Return<ServiceStatus, InvalidInput | NoFeasiblePlacement | RemoteServiceFailure, PriceCatalog> {
  if (request.engine === "kubernetes") {
    return yield* new InvalidInput({
      source: "--engine",
      issues: [{ path: "--engine", expected: "ec2-asg (for Kubernetes: kubectl get deploy,scaledobject -l app.kubernetes.io/name=<service>)", actual: "kubernetes" }]
    })
  }
  const { plan } = yield* planOnInfra(workload, request)
  const { aws, layer } = yield* awsEngine
  return yield* aws.autoScalingStatus(plan.region, aws.groupName(plan)).pipe(Effect.provide(layer), Effect.scoped)
})
