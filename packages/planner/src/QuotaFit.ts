/**
 * A plan held to the account's EC2 vCPU quotas (`frugal plan --infra` with AWS regions, `frugal run`): each option
 * that counts against a known quota carries it, and an option needing more vCPUs than the quota allows is ranked
 * after every option that fits, with the quota code in its reason, so a run never asks for more. When no feasible
 * option fits, the plan is infeasible and names the quota. Pure.
 */
import { NoFeasiblePlacement } from "@frugal/core"
import { type Ec2Quota, type QuotaMarket, quotaNeed } from "@frugal/pricing"
import type { Plan, PlacementOption } from "./PlanResult.ts"

const marketOf = (option: PlacementOption): QuotaMarket => (option.purchaseOption === "spot" ? "spot" : "on-demand")

/** The plan's options with their quotas, those above quota last; `NoFeasiblePlacement` when none of the feasible ones fits. */
export const fitQuotas = (
  plan: Plan,
  quotas: ReadonlyArray<Ec2Quota>,
  vcpusOf: (instanceType: string) => number | undefined
): Plan | NoFeasiblePlacement => {
  if (quotas.length === 0) return plan
  const annotated = plan.options.map((option) => {
    const vcpus = vcpusOf(option.instanceType)
    const need = vcpus === undefined
      ? null
      : quotaNeed(quotas, {
        instanceType: option.instanceType,
        region: option.region,
        market: marketOf(option),
        instances: option.instanceCount,
        vcpusPerInstance: vcpus
      })
    if (need === null) return option
    const quota = { code: need.code, name: need.name, limitVcpus: need.limitVcpus, neededVcpus: need.neededVcpus, fits: need.fits }
    return need.fits
      ? { ...option, quota }
      : {
        ...option,
        quota,
        reason: `above quota ${need.code} (${need.name}: ${need.limitVcpus} vCPUs in ${option.region}, needs ${need.neededVcpus}); ${option.reason}`
      }
  })
  const fits = annotated.filter((option) => option.quota?.fits !== false)
  const above = annotated.filter((option) => option.quota?.fits === false)
  const feasible = (option: PlacementOption) => option.meetsDeadline && option.withinBudget
  if (!fits.some(feasible) && above.some(feasible)) {
    const best = above.find(feasible)
    return new NoFeasiblePlacement({
      workload: plan.workload,
      constraint: `quota ${best?.quota?.code ?? ""}`.trim(),
      detail: `every option that meets the constraints needs more vCPUs than the account's quota: ${best?.instanceType ?? ""} × ${
        best?.instanceCount ?? 0
      } ${best?.purchaseOption ?? ""} in ${best?.region ?? ""} needs ${best?.quota?.neededVcpus ?? 0} vCPUs of ${best?.quota?.name ?? ""} (${
        best?.quota?.limitVcpus ?? 0
      }); request an increase in Service Quotas`
    })
  }
  return { ...plan, options: [...fits, ...above] }
}
