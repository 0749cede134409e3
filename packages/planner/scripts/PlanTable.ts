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
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { planRows, planTableMarkdown, repoRoot, type RowSummary, TABLE_END, TABLE_START } from "../test/support/PlanTable.ts"

const writeAtomic = (path: string, text: string): void => {
  const temp = `${path}.tmp-${process.pid}`
  writeFileSync(temp, text)
  renameSync(temp, path)
}

const args = process.argv.slice(2)
const beforeFile = `${repoRoot}docs/plan-table-before.json`
if (args.includes("--record-before")) {
  writeAtomic(beforeFile, `${JSON.stringify({ commit: "0e44321", rows: planRows(true) }, null, 2)}\n`)
  console.log(`wrote ${beforeFile}`)
} else {
  const recorded = JSON.parse(readFileSync(beforeFile, "utf8")) as { readonly commit: string; readonly rows: ReadonlyArray<RowSummary> }
  const table = planTableMarkdown(recorded.rows, planRows(), recorded.commit)
  if (args.includes("--write")) {
    const docs = `${repoRoot}docs/planner.md`
    const text = readFileSync(docs, "utf8")
    const start = text.indexOf(TABLE_START)
    const end = text.indexOf(TABLE_END)
    if (start < 0 || end < start) throw new Error(`docs/planner.md has no ${TABLE_START} … ${TABLE_END} markers`)
    writeAtomic(docs, `${text.slice(0, start + TABLE_START.length)}\n${table}\n${text.slice(end)}`)
    console.log(`wrote the table into ${docs}`)
  } else {
    console.log(table)
  }
}
