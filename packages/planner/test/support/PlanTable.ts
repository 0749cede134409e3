/**
 * The before/after table of docs/planner.md ("Ten workloads"): each example planned against the embedded catalog
 * and reduced to one line (what is recommended, for how long, at what cost). `PlanTable.ts` in scripts/ writes it;
 * `PlanTable.test.ts` checks that the committed table is what the code gives now.
 *
 * "Before" is recorded once, with `--record-before`, on the planner as it was before the issue that introduced the
 * table; it is committed as docs/plan-table-before.json. That planner did not know `model.finetune`, `loraRank`
 * and the other LoRA fields (it rejected them), so they are removed from the text before decoding: a LoRA
 * fine-tune then plans as the full fine-tune that users got.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { decodeWorkloadFile, type Workload, workloadsOf } from "@frugal/core"
import { EmbeddedCatalog } from "@frugal/pricing"
import { Effect, Exit } from "effect"
import { evaluatePlan, indexCatalog, type InfeasiblePlan, type Plan, planFleet } from "../../src/index.ts"

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url))

/** The ten workloads of the table, in its order, with the example file that holds each. */
export const TABLE_WORKLOADS: ReadonlyArray<{ readonly label: string; readonly file: string }> = [
  { label: "7B LoRA", file: "llama-7b-lora.yaml" },
  { label: "7B QLoRA", file: "llama-7b-qlora.yaml" },
  { label: "70B LoRA", file: "llama-70b-lora.yaml" },
  { label: "70B QLoRA", file: "llama-70b-qlora.yaml" },
  { label: "70B pretrain", file: "llama-70b-pretrain.yaml" },
  { label: "8B service", file: "inference-24x7.yaml" },
  { label: "70B service", file: "llama-70b-service.yaml" },
  { label: "small batch", file: "small-batch.yaml" },
  { label: "175B fp16 inference", file: "gpt3-175b-inference.yaml" },
  { label: "20-job fleet", file: "fleet-20-jobs.yaml" }
]

/** Keys the planner before LoRA support rejected; removed for the "before" record. */
const LORA_KEYS = /^\s*(finetune|loraRank|loraTargets|trainableFraction):.*\n/gm

export interface RowSummary {
  readonly label: string
  readonly file: string
  /** `2 × p5.48xlarge spot in use1-az6`, or for a fleet the pools its jobs land in. */
  readonly recommendation: string
  readonly perGpuMemoryGiB: number | null
  readonly expectedHours: number | null
  readonly expectedCostUsd: number
  readonly costPeriod: "job" | "month" | "fleet"
  readonly expectedInterruptions: number | null
  /** Anything the reader must know about how this row was planned. */
  readonly note: string | null
  /** The chance the recommendation's pool launches it (plans since capacity was modelled). */
  readonly obtainProbability?: number | null
}

const decode = (text: string, name: string): ReadonlyArray<Workload> | null => {
  const exit = Effect.runSyncExit(decodeWorkloadFile(text, name))
  return Exit.isSuccess(exit) ? workloadsOf(exit.value) : null
}

const where = (option: Plan["options"][number]): string => option.availabilityZone ?? option.region

const describeOption = (option: Plan["options"][number]): string =>
  `${option.instanceCount} × ${option.instanceType} ${option.purchaseOption}${
    option.term === null ? "" : ` ${option.term.years}-yr ${option.term.paymentOption}`
  } in ${where(option)}`

const singleRow = (label: string, file: string, result: Plan | InfeasiblePlan, note: string | null, before: boolean): RowSummary => {
  const best = result.options[0]
  if (result.status !== "ok" || best === undefined) {
    return {
      label,
      file,
      recommendation: `no feasible placement (${result.status === "ok" ? "no options" : result.constraint})`,
      perGpuMemoryGiB: null,
      expectedHours: null,
      expectedCostUsd: 0,
      costPeriod: "job",
      expectedInterruptions: null,
      note
    }
  }
  return {
    label,
    file,
    recommendation: describeOption(best),
    perGpuMemoryGiB: result.requirements.perGpuMemoryGiB,
    expectedHours: best.expectedHours,
    expectedCostUsd: best.expectedCostUsd,
    costPeriod: result.costPeriod,
    expectedInterruptions: best.interruptionRisk?.expectedInterruptions ?? null,
    note,
    ...(before ? {} : { obtainProbability: best.capacityRisk.obtainProbability })
  }
}

/** One row: the example planned now (or, `before`, with the LoRA keys removed where the decoder rejects them). */
export const planRow = (label: string, file: string, before = false): RowSummary => {
  const catalog = EmbeddedCatalog.catalog()
  const original = readFileSync(`${repoRoot}examples/${file}`, "utf8")
  let workloads = decode(original, file)
  let note: string | null = null
  if (workloads === null && before) {
    workloads = decode(original.replace(LORA_KEYS, ""), file)
    note = "model.finetune was rejected; planned as a full fine-tune"
  }
  if (workloads === null) throw new Error(`${file} does not decode`)
  if (workloads.length === 1 && workloads[0] !== undefined) {
    return singleRow(label, file, evaluatePlan(workloads[0], indexCatalog(catalog)), note, before)
  }
  const fleet = planFleet(workloads, catalog)
  // Jobs per instance type and purchase option, the pools (zones or regions) they use, and the most in one pool.
  const byType = new Map<string, { jobs: number; pools: Map<string, number> }>()
  for (const plan of fleet.workloads) {
    const best = plan.options[0]
    const key = plan.status === "ok" && best !== undefined ? `${best.instanceType} ${best.purchaseOption}` : "infeasible"
    const entry = byType.get(key) ?? { jobs: 0, pools: new Map<string, number>() }
    entry.jobs++
    const pool = best === undefined ? "" : where(best)
    entry.pools.set(pool, (entry.pools.get(pool) ?? 0) + 1)
    byType.set(key, entry)
  }
  const most = Math.max(...[...byType.values()].flatMap((entry) => [...entry.pools.values()]))
  const recommendation = [...byType].sort((a, b) => b[1].jobs - a[1].jobs || (a[0] < b[0] ? -1 : 1))
    .map(([key, entry]) => `${entry.jobs} × ${key} in ${entry.pools.size} ${entry.pools.size === 1 ? "pool" : "pools"}`)
    .join(", ") + ` (at most ${most} ${most === 1 ? "job" : "jobs"} per pool)`
  return {
    label,
    file,
    recommendation,
    perGpuMemoryGiB: null,
    expectedHours: null,
    expectedCostUsd: fleet.summary.jobsCostUsd,
    costPeriod: "fleet",
    expectedInterruptions: null,
    note
  }
}

export const planRows = (before = false): ReadonlyArray<RowSummary> =>
  TABLE_WORKLOADS.map(({ label, file }) => planRow(label, file, before))

/** Why each new plan is what an expert would pick, by the example it plans. */
export const WHY: Readonly<Record<string, string>> = {
  "llama-7b-lora.yaml":
    "LoRA trains 40M adapter parameters, so the state is 21 GiB per GPU, not the 136 GiB of a full fine-tune (before, `finetune` was rejected). The cheapest placement that can be had: a p5 spot node 83% under on-demand in a 5-10% bucket (68% chance of capacity), its launch, wait and on-demand fallback priced in.",
  "llama-7b-qlora.yaml":
    "QLoRA's 4-bit base needs 12 GiB per GPU. Dequantizing it costs 3% of the matmul time at this micro-batch, so the same p5 spot node stays cheapest; any 16 GB GPU would hold it too, more slowly.",
  "llama-70b-lora.yaml":
    "A frozen bf16 base of 140 GB plus adapters fits 4 × H100 with FSDP (212 GiB in all), not the 1,278 GiB of a full fine-tune: one 8-GPU p5 spot node, 13 h.",
  "llama-70b-qlora.yaml":
    "The NF4 base is 39 GB: one 80 GB GPU holds it. An 8 × H200 spot node finishes in 5 h for about $31, fallback included.",
  "llama-70b-pretrain.yaml":
    "24 p5 spot nodes together in one zone launch about 12% of the time (a1^(1 + log2 24)), so spot would run nearly all on the on-demand fallback and saves under 10%: on-demand, on the fewest nodes that meet the 720 h deadline (21; the count search goes past the doubling that first fits), whose gang still waits for capacity now and then, instead of ~163 expected interruptions priced as if the gang were always there.",
  "inference-24x7.yaml":
    "Unchanged: a steady 8B service runs 100% of the month, far above a 3-year reservation's 44% break-even. The text now shows the $79,555 paid up front.",
  "llama-70b-service.yaml":
    "Unchanged: 8 × A100-40GB hold the 140 GB of bf16 weights and the KV cache of 1,500 tokens/s; a 3-year reservation breaks even far below 100% use.",
  "small-batch.yaml":
    "Launch (10 min), the 50 GB download and EC2's minimum billing outweigh the GPU's speed on a 6 A10G-hour job: one L40S spot instance for under 3 h, not 8 × B200 for 0.04 h.",
  "gpt3-175b-inference.yaml":
    "Unchanged: 350 GB of fp16 weights need 8 × A100-80GB; served around the clock, a 3-year reservation.",
  "fleet-20-jobs.yaml":
    "Each job is priced against what the jobs before it took: a pool holds what its capacity allows, the floor-priced p6-b200 zone takes one job, and the sweep spreads over H100, H200 and B200 spot pools instead of piling into use2-az3."
}

const cell = (row: RowSummary): string => {
  const hours = row.expectedHours === null ? "" : ` · ${row.expectedHours} h${row.costPeriod === "month" ? "/month" : ""}`
  const cost = `$${row.expectedCostUsd.toLocaleString("en-US", { maximumFractionDigits: 2 })}${row.costPeriod === "month" ? "/month" : row.costPeriod === "fleet" ? " in all" : ""}`
  const memory = row.perGpuMemoryGiB === null ? "" : ` · ${row.perGpuMemoryGiB} GiB/GPU`
  const chance = row.obtainProbability === undefined || row.obtainProbability === null ? "" : ` · ${Math.round(row.obtainProbability * 100)}% capacity`
  const note = row.note === null ? "" : ` (${row.note})`
  return `${row.recommendation}${hours} · ${cost}${memory}${chance}${note}`
}

/** The Markdown table of docs/planner.md: before (recorded), after (planned now), and why. */
export const planTableMarkdown = (before: ReadonlyArray<RowSummary>, after: ReadonlyArray<RowSummary>, commit: string): string => {
  const rows = after.map((row) => {
    const old = before.find((b) => b.file === row.file)
    return `| ${row.label} (\`${row.file}\`) | ${old === undefined ? "—" : cell(old)} | ${cell(row)} | ${WHY[row.file] ?? ""} |`
  })
  return [
    `| workload | before (commit ${commit}) | after | why an expert would pick it |`,
    "|---|---|---|---|",
    ...rows
  ].join("\n")
}

export const TABLE_START = "<!-- plan-table:start (generated by packages/planner/scripts/PlanTable.ts --write) -->"
export const TABLE_END = "<!-- plan-table:end -->"
