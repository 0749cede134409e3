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
const LORA_KEYS = /^\s*(finetune|loraRank|loraTargets|loraTrainableFraction):.*\n/gm

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

const singleRow = (label: string, file: string, result: Plan | InfeasiblePlan, note: string | null): RowSummary => {
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
    note
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
    return singleRow(label, file, evaluatePlan(workloads[0], indexCatalog(catalog)), note)
  }
  const fleet = planFleet(workloads, catalog)
  const pools = new Map<string, number>()
  for (const plan of fleet.workloads) {
    const best = plan.options[0]
    const key = plan.status === "ok" && best !== undefined ? describeOption(best) : "infeasible"
    pools.set(key, (pools.get(key) ?? 0) + 1)
  }
  const recommendation = [...pools].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([pool, n]) => `${n} jobs: ${pool}`).join("; ")
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
