/**
 * docs/planner.md's "Ten workloads" table is generated (`packages/planner/scripts/PlanTable.ts --write`): it must be
 * what the planner gives now, next to the recorded "before" (docs/plan-table-before.json).
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { planRows, planTableMarkdown, repoRoot, type RowSummary, TABLE_END, TABLE_START, TABLE_WORKLOADS, WHY } from "./support/PlanTable.ts"

const recorded = JSON.parse(readFileSync(`${repoRoot}docs/plan-table-before.json`, "utf8")) as {
  readonly commit: string
  readonly rows: ReadonlyArray<RowSummary>
}

describe("docs/planner.md's table of ten workloads", () => {
  it("is what the planner gives now (run packages/planner/scripts/PlanTable.ts --write when it changes)", () => {
    const docs = readFileSync(`${repoRoot}docs/planner.md`, "utf8")
    const start = docs.indexOf(TABLE_START)
    const end = docs.indexOf(TABLE_END)
    assert.isAtLeast(start, 0)
    assert.isAbove(end, start)
    const committed = docs.slice(start + TABLE_START.length, end).trim()
    assert.strictEqual(committed, planTableMarkdown(recorded.rows, planRows(), recorded.commit))
  })

  it("has a recorded before, and a why, for each of the ten workloads", () => {
    assert.strictEqual(TABLE_WORKLOADS.length, 10)
    for (const { file } of TABLE_WORKLOADS) {
      assert.isDefined(recorded.rows.find((row) => row.file === file), file)
      assert.isAbove((WHY[file] ?? "").length, 40, file)
    }
  })

  it("no longer needs a 1,278 GiB placement for a 70B LoRA, and moves the small batch job off 8 × B200", () => {
    const rows = planRows()
    const lora = rows.find((row) => row.file === "llama-70b-lora.yaml")
    const before = recorded.rows.find((row) => row.file === "llama-70b-lora.yaml")
    assert.isBelow(lora?.perGpuMemoryGiB ?? Infinity, 80)
    assert.isAbove(before?.perGpuMemoryGiB ?? 0, 150)
    const batch = rows.find((row) => row.file === "small-batch.yaml")
    assert.notInclude(batch?.recommendation ?? "", "p6-b200")
    assert.isAbove(batch?.expectedHours ?? 0, 1)
  })
})
