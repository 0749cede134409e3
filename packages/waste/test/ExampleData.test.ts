/**
 * The example week in examples/waste: the files are what generate.ts prints, and the findings on them
 * add up to the dollars worked out by hand from the fleet described in generate.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { exampleFiles } from "../../../examples/waste/generate.ts"
import type { FindingKind } from "../src/Finding.ts"
import { exampleReport } from "./fixtures/ExampleReport.ts"

const examples = join(import.meta.dirname, "..", "..", "..", "examples", "waste")

describe("example week", () => {
  it("ships the files generate.ts produces", () => {
    for (const [name, content] of Object.entries(exampleFiles())) {
      assert.strictEqual(readFileSync(join(examples, name), "utf8"), content, `${name} is stale: pnpm exec node examples/waste/generate.ts`)
    }
  })

  it.effect("finds the waste worked out by hand, never more than the spend, each with evidence", () =>
    Effect.gen(function*() {
      const report = yield* exampleReport
      const total = 7 * 48 * 5.672 + 3 * 24 * 21.957642 + 2 * 24 * 6.5323 + 7 * 24 * 1.861 + 7 * 24 * 2.5037 + 2 * 30 + 7 * 3
      assert.closeTo(report.totalCostUsd, total, 1e-6)
      const expected: Record<string, number> = {
        // 72 on-demand p4d hours at $21.957642 instead of spot in use1-az2 at $6.5323 (bucket 2, 10-15%)
        "spot-eligible": 72 * (21.957642 - 6.5323),
        // 2 g5.12xlarge around the clock = 336 h, less 42 idle instance-hours, at $5.672 − $3.4032 (1-year all-upfront)
        "commitment-opportunity": (336 - 42) * (5.672 - 3.4032),
        // i-0b2d... idle 00:00-05:00 UTC each night: 7 × 6 h × 4 GPUs at $5.672 / 4 per GPU-hour
        "idle-gpu": 168 * 5.672 / 4,
        // g6e.xlarge (L40S) using 9 GiB at 36%: a g4dn.xlarge (T4 16 GiB) for 168 h
        "oversized-gpu": 168 * (1.861 - 0.526),
        // 48 of 168 reserved hours unused at $2.5037/h
        "unused-commitment": 48 * 2.5037,
        "cross-region-transfer": 2 * 1500 * 0.02
      }
      assert.deepStrictEqual(report.findings.map((finding) => finding.kind).sort(), Object.keys(expected).sort() as Array<FindingKind>)
      for (const finding of report.findings) {
        assert.closeTo(finding.costUsd, expected[finding.kind] ?? Number.NaN, 1e-6, finding.kind)
        assert.isAbove(finding.evidence.length, 0)
        assert.closeTo(finding.evidence.reduce((sum, item) => sum + item.costUsd, 0), finding.costUsd, 1e-6)
      }
      assert.isAtMost(report.wasteUsd, report.totalCostUsd)
    }))
})
