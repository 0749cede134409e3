/**
 * Every waste finding, as its rule. The order here does not matter: `FINDING_RULES` is sorted by each rule's own
 * precedence, which is the order the report claims spend in.
 */
import { commitmentOpportunityRule, unusedCommitmentRule } from "./Commitments.ts"
import { idleGpuRule, oversizedGpuRule } from "./GpuFindings.ts"
import { crossRegionTransferRule, lostWorkRule } from "./LostWorkAndTransfer.ts"
import { spotEligibleRule } from "./SpotEligible.ts"

const RULES = [
  unusedCommitmentRule,
  idleGpuRule,
  oversizedGpuRule,
  lostWorkRule,
  commitmentOpportunityRule,
  spotEligibleRule,
  crossRegionTransferRule
] as const

export type FindingKind = typeof RULES[number]["kind"]

/** The rules in precedence order (lowest first). */
export const FINDING_RULES: ReadonlyArray<typeof RULES[number]> = [...RULES].sort((a, b) => a.precedence - b.precedence)

/** Every kind, in precedence order. */
export const FINDING_KINDS: ReadonlyArray<FindingKind> = FINDING_RULES.map((rule) => rule.kind)

export const findingRuleOf = (kind: string): typeof RULES[number] | undefined => FINDING_RULES.find((rule) => rule.kind === kind)

/** A kind's short name, for tables and charts. */
export const kindLabel = (kind: FindingKind): string => findingRuleOf(kind)?.label ?? kind
