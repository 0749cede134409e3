/**
 * A plan held to the account's EC2 vCPU quotas (`frugal plan --infra` with AWS regions, `frugal run`): each option
 * that counts against a known quota carries it, and an option needing more vCPUs than the quota allows is ranked
 * after every option that fits, with the quota code in its reason. Pure.
 */
import { type Ec2Quota, type QuotaMarket, quotaNeed } from "@frugal/pricing"
import type { Plan, PlacementOption } from "./PlanResult.ts"

const marketOf = (option: PlacementOption): QuotaMarket => (option.purchaseOption === "spot" ? "spot" : "on-demand")

/**
 * The plan's options with their quotas, those above quota last. An option is the cheapest region of its type and
 * market, and quotas are per region, so an option above quota here may still launch elsewhere: whether anything
 * can launch at all is for the run's placements to say (LaunchPlan), not for this annotation.
 */
export const fitQuotas = (
  plan: Plan,
  quotas: ReadonlyArray<Ec2Quota>,
  vcpusOf: (instanceType: string) => number | undefined
): Plan => {
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
  return {
    ...plan,
    options: [...annotated.filter((option) => option.quota?.fits !== false), ...annotated.filter((option) => option.quota?.fits === false)]
  }
}
