/**
 * The "Ten workloads" table of docs/planner.md, before and after the issue that made plans expert-grade.
 *
 *   pnpm exec node packages/planner/scripts/PlanTable.ts                  # print the table
 *   pnpm exec node packages/planner/scripts/PlanTable.ts --write          # replace it in docs/planner.md
 *   pnpm exec node packages/planner/scripts/PlanTable.ts --record-before  # write docs/plan-table-before.json
 *
 * `--record-before` was run once on the planner before that issue (commit 0e44321); the table's "before" column
 * reads that file. packages/planner/test/PlanTable.test.ts fails when docs/planner.md is stale.
 */
import { renameSync, writeFileSync } from "node:fs"
import { planRows, repoRoot } from "../test/support/PlanTable.ts"

const args = process.argv.slice(2)
if (args.includes("--record-before")) {
  const out = `${repoRoot}docs/plan-table-before.json`
  const temp = `${out}.tmp-${process.pid}`
  writeFileSync(temp, `${JSON.stringify({ commit: "0e44321", rows: planRows(true) }, null, 2)}\n`)
  renameSync(temp, out)
  console.log(`wrote ${out}`)
} else {
  console.log(JSON.stringify(planRows(), null, 2))
}
