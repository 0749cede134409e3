import { assert, describe, it } from "@effect/vitest"
import { analyzeWaste } from "../src/Analyze.ts"
import type { ComputeSpend, CostData } from "../src/CostData.ts"
import { datesOf } from "../src/CostData.ts"
import { findingRule } from "../src/findings/FindingRule.ts"
import { commitmentOpportunityRule, unusedCommitmentRule } from "../src/findings/Commitments.ts"
import { FINDING_KINDS, FINDING_RULES, kindLabel } from "../src/findings/Rules.ts"
import { spotEligibleRule } from "../src/findings/SpotEligible.ts"
import { testCatalog } from "./fixtures/TestCatalog.ts"

const period = { start: "2026-11-02", end: "2026-11-09" }
// Two g5.12xlarge on demand around the clock for a week at $5/h: both a commitment and spot could claim these hours.
const costs: CostData = {
  period,
  compute: datesOf(period).map((date): ComputeSpend => ({ date, instanceType: "g5.12xlarge", purchaseOption: "on-demand", costUsd: 48 * 5, usageHours: 48 })),
  zones: [],
  usageTypes: [],
  reservations: [],
  savingsPlans: [],
  adjustments: []
}

const hoursOf = (report: ReturnType<typeof analyzeWaste>, kind: string): number =>
  report.findings.find((finding) => finding.kind === kind)?.evidence.reduce((sum, item) => sum + item.hours, 0) ?? 0

describe("FindingRule", () => {
  it("lists every rule once, in precedence order, with its label", () => {
    assert.deepStrictEqual(FINDING_KINDS, [
      "unused-commitment",
      "idle-gpu",
      "oversized-gpu",
      "lost-work",
      "commitment-opportunity",
      "spot-eligible",
      "cross-region-transfer"
    ])
    assert.strictEqual(new Set(FINDING_RULES.map((rule) => rule.precedence)).size, FINDING_RULES.length)
    assert.strictEqual(kindLabel("spot-eligible"), "Could be spot")
  })

  it("lets the rule of lower precedence claim contested hours first", () => {
    const asDefined = analyzeWaste({ costs, catalog: testCatalog, rules: [commitmentOpportunityRule, spotEligibleRule] })
    // The commitment claims the 336 always-on hours; spot finds nothing left.
    assert.strictEqual(hoursOf(asDefined, "commitment-opportunity"), 336)
    assert.strictEqual(hoursOf(asDefined, "spot-eligible"), 0)
    const spotFirst = analyzeWaste({
      costs,
      catalog: testCatalog,
      rules: [commitmentOpportunityRule, { ...spotEligibleRule, precedence: commitmentOpportunityRule.precedence - 1 }]
    })
    assert.strictEqual(hoursOf(spotFirst, "spot-eligible"), 336)
    assert.strictEqual(hoursOf(spotFirst, "commitment-opportunity"), 0)
  })

  it("runs a rule defined in one place, with its kind on the finding", () => {
    const everyOnDemandHour = findingRule({
      kind: "unused-commitment",
      precedence: 1,
      label: "Test rule",
      explanation: "Claims every on-demand dollar.",
      find: (context) => {
        const granted = context.pools.claimHours("g5.12xlarge", "on-demand", 1e9)
        return {
          title: "every on-demand hour",
          costUsd: granted.costUsd,
          monthlySavingsUsd: 0,
          evidence: [{ subject: "g5.12xlarge", instanceType: "g5.12xlarge", from: null, to: null, hours: granted.hours, costUsd: granted.costUsd, detail: "test" }],
          action: "none"
        }
      }
    })
    const report = analyzeWaste({ costs, catalog: testCatalog, rules: [everyOnDemandHour, unusedCommitmentRule, spotEligibleRule] })
    assert.deepStrictEqual(report.findings.map((finding) => [finding.kind, finding.title, finding.costUsd]), [["unused-commitment", "every on-demand hour", 1680]])
  })
})
