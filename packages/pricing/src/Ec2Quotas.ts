/**
 * EC2's vCPU quotas: running on-demand instances and spot requests are limited per region and instance family, in
 * vCPUs, each with a Service Quotas code ("Amazon EC2 instance type quotas", EC2 User Guide; codes as listed by
 * Service Quotas for service `ec2`). A GPU account often starts at 0 for P and G. Pure data and arithmetic: the
 * live values come from `aws/ServiceQuotas.ts`.
 */
import { Schema } from "effect"

export const QuotaMarket = Schema.Literals(["on-demand", "spot"])
export type QuotaMarket = typeof QuotaMarket.Type

export interface QuotaFamily {
  readonly family: string
  /** Instance type prefixes of the family, matched on the letters before the generation digit. */
  readonly prefixes: ReadonlyArray<string>
  readonly onDemand: { readonly code: string; readonly name: string }
  readonly spot: { readonly code: string; readonly name: string }
}

export const QUOTA_FAMILIES: ReadonlyArray<QuotaFamily> = [
  {
    family: "P",
    prefixes: ["p"],
    onDemand: { code: "L-417A185B", name: "Running On-Demand P instances" },
    spot: { code: "L-7212CCBC", name: "All P Spot Instance Requests" }
  },
  {
    family: "G and VT",
    prefixes: ["g", "vt"],
    onDemand: { code: "L-DB2E81BA", name: "Running On-Demand G and VT instances" },
    spot: { code: "L-3819A6DF", name: "All G and VT Spot Instance Requests" }
  },
  {
    family: "DL",
    prefixes: ["dl"],
    onDemand: { code: "L-6E869C2A", name: "Running On-Demand DL instances" },
    spot: { code: "L-85EED4F7", name: "All DL Spot Instance Requests" }
  },
  {
    family: "Trn",
    prefixes: ["trn"],
    onDemand: { code: "L-2C3B7624", name: "Running On-Demand Trn instances" },
    spot: { code: "L-5480EFD2", name: "All Trn Spot Instance Requests" }
  },
  {
    family: "Inf",
    prefixes: ["inf"],
    onDemand: { code: "L-1945791B", name: "Running On-Demand Inf instances" },
    spot: { code: "L-B5D1601B", name: "All Inf Spot Instance Requests" }
  },
  {
    family: "F",
    prefixes: ["f"],
    onDemand: { code: "L-74FC7D96", name: "Running On-Demand F instances" },
    spot: { code: "L-88CF9481", name: "All F Spot Instance Requests" }
  },
  {
    family: "Standard",
    prefixes: ["a", "c", "d", "h", "i", "m", "r", "t", "z"],
    onDemand: { code: "L-1216C47A", name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" },
    spot: { code: "L-34B43A08", name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" }
  }
]

/** The quota an instance type counts against in a market; null for a type outside EC2's families (a cluster). */
export const quotaFamilyOf = (instanceType: string): QuotaFamily | null => {
  const letters = /^([a-z]+)[0-9]/.exec(instanceType)?.[1]
  if (letters === undefined || instanceType.includes(":")) return null
  return QUOTA_FAMILIES.find((family) => family.prefixes.includes(letters)) ?? null
}

/** A quota's value in one region, as Service Quotas reports it. */
export const Ec2Quota = Schema.Struct({
  region: Schema.String,
  code: Schema.String,
  name: Schema.String,
  market: QuotaMarket,
  /** The limit, vCPUs (the applied value, else AWS's default). */
  vcpus: Schema.Number
})
export type Ec2Quota = typeof Ec2Quota.Type

/** What launching `instances` of a type with `vcpusPerInstance` needs against the quotas known for its region. */
export const quotaNeed = (
  quotas: ReadonlyArray<Ec2Quota>,
  placement: { readonly instanceType: string; readonly region: string; readonly market: QuotaMarket; readonly instances: number; readonly vcpusPerInstance: number }
): { readonly code: string; readonly name: string; readonly limitVcpus: number; readonly neededVcpus: number; readonly fits: boolean } | null => {
  const family = quotaFamilyOf(placement.instanceType)
  if (family === null) return null
  const code = placement.market === "spot" ? family.spot.code : family.onDemand.code
  const quota = quotas.find((q) => q.region === placement.region && q.code === code)
  if (quota === undefined) return null
  const neededVcpus = placement.instances * placement.vcpusPerInstance
  return { code, name: quota.name, limitVcpus: quota.vcpus, neededVcpus, fits: neededVcpus <= quota.vcpus }
}
