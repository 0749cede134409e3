/** Findings from the ledger (work lost to interruptions) and from data transfer between regions. */
import { formatUsd } from "@frugal/core"
import { isTransferUsageType } from "../CostData.ts"
import type { Evidence, FindingBody } from "../Finding.ts"
import { findingRule } from "./FindingRule.ts"
import { evidenceCostUsd, type FindingContext, monthly } from "./FindingContext.ts"

const lostWork = (context: FindingContext): FindingBody | undefined => {
  const evidence: Array<Evidence> = []
  for (const row of context.lostWork) {
    if (row.lostHours < context.thresholds.lostWorkMinHours) continue
    const granted = context.pools.claimDollars(row.instanceType, row.purchaseOption, row.lostCostUsd)
    if (granted.costUsd <= 0) continue
    evidence.push({
      subject: `${row.jobId} attempt ${row.attempt}`,
      instanceType: row.instanceType,
      from: row.interruptedAt,
      to: row.interruptedAt,
      hours: row.lostHours,
      costUsd: granted.costUsd,
      detail: `${row.lostHours.toFixed(2)} h of ${row.purchaseOption} ${row.instanceType} compute since the last checkpoint, ` +
        `lost when interrupted at ${row.interruptedAt}`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const worstHours = Math.max(...evidence.map((item) => item.hours))
  return {
    title: "Work lost to interruptions without a recent checkpoint",
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Checkpoint at the Young/Daly interval (\`frugal run\` sets --checkpoint-every-seconds); ` +
      `the worst attempt lost ${worstHours.toFixed(1)} h.`
  }
}

/** `USE1-USW2-AWS-Out-Bytes`: data sent from the first region to the second (billed to the sender). */
const INTER_REGION = /^([A-Z]{2,4}\d?)-([A-Z]{2,4}\d?)-AWS-Out-Bytes$/

/** AWS billing region codes used in usage types (https://docs.aws.amazon.com/cur/latest/userguide/ ...). */
const REGION_CODES: Readonly<Record<string, string>> = {
  USE1: "us-east-1", USE2: "us-east-2", USW1: "us-west-1", USW2: "us-west-2", CAN1: "ca-central-1",
  EUC1: "eu-central-1", EU: "eu-west-1", EUW1: "eu-west-1", EUW2: "eu-west-2", EUW3: "eu-west-3", EUN1: "eu-north-1",
  APN1: "ap-northeast-1", APN2: "ap-northeast-2", APS1: "ap-southeast-1", APS2: "ap-southeast-2", APS3: "ap-south-1",
  SAE1: "sa-east-1"
}
const regionName = (code: string): string => REGION_CODES[code] ?? code

const crossRegionTransfer = (context: FindingContext): FindingBody | undefined => {
  const byUsageType = new Map<string, { costUsd: number; gb: number; from: string; to: string }>()
  for (const row of context.costs.usageTypes) {
    const match = INTER_REGION.exec(row.usageType)
    if (match === null || !isTransferUsageType(row.usageType) || row.costUsd <= 0) continue
    const current = byUsageType.get(row.usageType) ?? { costUsd: 0, gb: 0, from: row.date, to: row.date }
    byUsageType.set(row.usageType, {
      costUsd: current.costUsd + row.costUsd,
      gb: current.gb + row.usageQuantity,
      from: current.from < row.date ? current.from : row.date,
      to: current.to > row.date ? current.to : row.date
    })
  }
  const evidence: Array<Evidence> = []
  for (const [usageType, total] of [...byUsageType.entries()].sort((a, b) => b[1].costUsd - a[1].costUsd)) {
    const granted = context.pools.claimTransfer(total.costUsd)
    if (granted <= 0) continue
    const match = INTER_REGION.exec(usageType)
    evidence.push({
      subject: usageType,
      instanceType: null,
      from: total.from,
      to: total.to,
      hours: 0,
      costUsd: granted,
      detail: `${total.gb.toFixed(0)} GB sent from ${regionName(match?.[1] ?? "")} to ${regionName(match?.[2] ?? "")} ` +
        `for ${formatUsd(total.costUsd)} (${formatUsd(total.gb > 0 ? total.costUsd / total.gb : 0)}/GB)`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const top = INTER_REGION.exec(evidence[0]?.subject ?? "")
  return {
    title: "Data moved between regions",
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Keep the data where the GPUs run: copy the dataset once to ${regionName(top?.[2] ?? "")} ` +
      `(or set data.region and constraints.regions so \`frugal plan\` places jobs in ${regionName(top?.[1] ?? "")}).`
  }
}

export const lostWorkRule = findingRule({
  kind: "lost-work",
  precedence: 40,
  label: "Lost work",
  explanation: "Compute between an interrupted attempt's last checkpoint and the interruption, from the Frugal ledger.",
  find: lostWork
})

export const crossRegionTransferRule = findingRule({
  kind: "cross-region-transfer",
  precedence: 70,
  label: "Cross-region transfer",
  explanation: "Inter-region data transfer (`*-AWS-Out-Bytes` usage types) from Cost Explorer.",
  find: crossRegionTransfer
})
