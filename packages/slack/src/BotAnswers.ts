/**
 * What the bot computes for each request, as Effects over the same services the CLI uses:
 * the planner with a `PriceCatalog`, the price list, and the waste report's sources.
 */
import { decodeWorkloadFile, formatUsd, InvalidInput, type NoFeasiblePlacement, type RemoteServiceFailure, resolveAcceleratorNames, workloadsOf } from "@frugal/core"
import { type Plan, Planner } from "@frugal/planner"
import { PriceCatalog, type PriceCatalogError } from "@frugal/pricing"
import {
  buildReport,
  type CostSource,
  FINDING_KINDS,
  type FindingKind,
  type LostWorkSource,
  mrkdwn,
  escapeMrkdwn,
  periodSince,
  type SlackMessage,
  type WasteReport,
  type UtilizationSource
} from "@frugal/waste"
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { gpusMessage, type GpuRow, withinLimits } from "./Messages.ts"

export type AnswerError = InvalidInput | NoFeasiblePlacement | RemoteServiceFailure | PriceCatalogError

/** `llama-7b-finetune` → `examples/llama-7b-finetune.yaml`; anything else is an inline YAML/JSON spec. */
export const planFor = (spec: string, examplesDir: string): Effect.Effect<Plan, AnswerError, PriceCatalog> =>
  Effect.gen(function*() {
    const isExampleName = /^[a-z0-9-]{1,63}$/.test(spec)
    const source = isExampleName ? `${spec}.yaml` : "inline spec"
    const text = isExampleName
      ? yield* Effect.tryPromise({
        try: () => readFile(join(examplesDir, `${spec}.yaml`), "utf8"),
        catch: () => null
      }).pipe(Effect.catch(() => Effect.succeed(null)))
      : spec
    if (text === null) {
      return yield* Effect.fail(
        new InvalidInput({
          source: "/frugal plan",
          issues: [{ path: "example", expected: "the name of an example workload (llama-7b-finetune, inference-24x7, ...) or an inline spec", actual: spec }]
        })
      )
    }
    const file = yield* decodeWorkloadFile(text, source)
    const workload = workloadsOf(file)[0]
    if (workload === undefined) {
      return yield* Effect.die(new Error("a decoded workload file holds at least one workload"))
    }
    return yield* Planner.plan(workload, { top: 10 })
  })

export const gpusFor = (gpu: string, region: string): Effect.Effect<SlackMessage, AnswerError, PriceCatalog> =>
  Effect.gen(function*() {
    const names = resolveAcceleratorNames(gpu)
    const catalog = yield* PriceCatalog.use((prices) => prices.catalog({ regions: [region], accelerators: names }))
    const rows: Array<GpuRow> = catalog.instanceTypes
      .filter((type) => names.some((name) => name === type.accelerator))
      .map((type) => {
        const offers = catalog.offers.filter((offer) => offer.instanceType === type.name && offer.region === region)
        const spot = offers.filter((offer) => offer.purchaseOption === "spot").sort((a, b) => a.hourlyPriceUsd - b.hourlyPriceUsd)[0] ?? null
        return {
          instanceType: type.name,
          accelerator: type.accelerator,
          gpus: type.acceleratorCount,
          memoryGiB: type.acceleratorMemoryGiB,
          onDemand: offers.find((offer) => offer.purchaseOption === "on-demand")?.hourlyPriceUsd ?? null,
          spot
        }
      })
      .sort((a, b) => (a.onDemand ?? Infinity) - (b.onDemand ?? Infinity))
    return gpusMessage(names.length === 0 ? gpu : names.join("/"), region, rows)
  })

export const wasteFor = (
  since: string
): Effect.Effect<WasteReport, AnswerError, CostSource | UtilizationSource | LostWorkSource | PriceCatalog> =>
  Effect.flatMap(periodSince(since), (period) => buildReport(period))

/** "Show alternatives" on a finding: all of its evidence, each line with the figures behind it. */
export const findingDetails = (report: WasteReport, kind: string): SlackMessage => {
  const finding = report.findings.find((one) => one.kind === kind)
  return withinLimits({
    text: finding === undefined ? `No ${kind} finding in the last report` : finding.title,
    blocks: finding === undefined
      ? [{ type: "section", text: mrkdwn(`No ${escapeMrkdwn(kind)} finding in the last report of this channel.`) }]
      : [
        { type: "section", text: mrkdwn(`*${escapeMrkdwn(finding.title)}*\n*Action:* ${escapeMrkdwn(finding.action)}`) },
        ...finding.evidence.slice(0, 45).map((item) => ({
          type: "section" as const,
          text: mrkdwn(`*${escapeMrkdwn(item.subject)}*: ${formatUsd(item.costUsd)}. ${escapeMrkdwn(item.detail)}`)
        }))
      ]
  })
}

/** How each finding's dollars are computed (docs/waste.md), for the "Explain" button. */
export const FINDING_EXPLANATIONS: Readonly<Record<FindingKind, string>> = {
  "unused-commitment": "Reserved hours not used × the reservation's amortised hourly fee, plus savings-plan commitment not used.",
  "idle-gpu": "GPU-hours below the idle threshold (30%) in stretches of at least an hour × what the instance cost per GPU-hour.",
  "oversized-gpu": "Busy hours of an instance whose peak GPU memory (with 25% headroom) fits a cheaper GPU and whose mean " +
    "utilisation is under 50% × the price difference, in proportion to what was paid.",
  "lost-work": "Compute between an interrupted attempt's last checkpoint and the interruption, from the Frugal ledger.",
  "commitment-opportunity": "Instances that ran on demand every hour of every day × (on-demand − the best 1-year commitment rate).",
  "spot-eligible": "Remaining on-demand hours × (on-demand − the cheapest spot price in a zone whose interruption bucket is at most 10-15%).",
  "cross-region-transfer": "Inter-region data transfer (`*-AWS-Out-Bytes` usage types) from Cost Explorer."
}

export const explainFinding = (value: string): SlackMessage => {
  const kind = FINDING_KINDS.find((known) => known === value)
  return withinLimits({
    text: `How ${value} is computed`,
    blocks: [{
      type: "section",
      text: mrkdwn(
        // The button's value comes back from Slack as the user's client sent it: escaped like typed text.
        `*${escapeMrkdwn(value)}*: ${kind === undefined ? "unknown finding" : FINDING_EXPLANATIONS[kind]}\n` +
          "Findings claim dollars in a fixed order (unused commitments, idle, oversized, lost work, commitments, spot, transfer) " +
          "from what was actually paid, so together they never exceed the period's spend."
      )
    }]
  })
}
