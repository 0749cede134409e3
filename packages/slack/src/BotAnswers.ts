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
  FINDING_RULES,
  findingRuleOf,
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

export const explainFinding = (value: string): SlackMessage => {
  const rule = findingRuleOf(value)
  return withinLimits({
    text: `How ${value} is computed`,
    blocks: [{
      type: "section",
      text: mrkdwn(
        // The button's value comes back from Slack as the user's client sent it: escaped like typed text.
        `*${escapeMrkdwn(value)}*: ${rule === undefined ? "unknown finding" : rule.explanation}\n` +
          `Findings claim dollars in a fixed order (${FINDING_RULES.map((known) => known.label).join(", ")}) ` +
          "from what was actually paid, so together they never exceed the period's spend."
      )
    }]
  })
}
