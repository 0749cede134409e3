/** What apply and status share: the plan over the regions the infrastructure profile can launch in. */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import { InvalidInput, type RemoteServiceFailure, type NoFeasiblePlacement } from "@frugal/core"
import { planService, type ServiceInfra, type ServicePlan } from "@frugal/serving"
import { loadCatalog, readInfra, readServiceWorkload } from "./Inputs.ts"

export interface EngineInput {
  readonly file: string
  readonly infra: Option.Option<string>
  readonly catalog: string
}

/** The infrastructure profile's source as errors name it. */
export const infraSource = (flag: Option.Option<string>): string =>
  Option.isSome(flag) ? flag.value : process.env["FRUGAL_INFRA"] ?? "the infrastructure profile"

/** The workload's plan, in one of the regions the profile has subnets in (and the workload allows). */
export const planOnInfra = (
  input: EngineInput
): Effect.Effect<{ readonly plan: ServicePlan; readonly infra: ServiceInfra }, InvalidInput | NoFeasiblePlacement | RemoteServiceFailure, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const workload = yield* readServiceWorkload(input.file)
    const infra = yield* readInfra(input.infra)
    const profileRegions = Object.keys(infra.aws?.regions ?? {}).sort()
    const allowed = workload.constraints.regions
    const regions = profileRegions.filter((region) => allowed === undefined || allowed.includes(region))
    const [first, ...rest] = regions
    if (first === undefined) {
      return yield* new InvalidInput({
        source: infraSource(input.infra),
        issues: [{ path: "aws.regions", expected: `a region with subnets${allowed === undefined ? "" : ` among constraints.regions (${allowed.join(", ")})`}`, actual: profileRegions.join(", ") || "none" }]
      })
    }
    const constrained = workload.kind === "inference" ? { ...workload, constraints: { ...workload.constraints, regions: [first, ...rest] as const } } : workload
    const catalog = yield* loadCatalog(input.catalog)
    const plan = yield* planService(constrained, input.file, catalog)
    return { plan, infra }
  })
