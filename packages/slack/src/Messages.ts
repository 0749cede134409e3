/**
 * Block Kit messages for the bot's answers: plans, GPU price lists, help, explanations. Every message goes
 * through `withinLimits`, which enforces Slack's limits (50 blocks, 3,000 characters of text per block) and
 * escapes the top-level `text`: builders write it raw, and Slack reads it as mrkdwn (a `<!channel>` in a
 * user's input would notify the channel). Text inside mrkdwn blocks is escaped where it is put together.
 */
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { Plan, PlacementOption } from "@frugal/planner"
import type { Offer } from "@frugal/core"
import {
  ALTERNATIVES_ACTION,
  type Block,
  clip,
  EXPLAIN_ACTION,
  escapeMrkdwn,
  MAX_BLOCKS,
  MAX_TEXT,
  mrkdwn,
  plain,
  type SlackMessage
} from "@frugal/waste"

export const withinLimits = (message: SlackMessage): SlackMessage => ({
  text: clip(escapeMrkdwn(message.text), MAX_TEXT),
  blocks: message.blocks.slice(0, MAX_BLOCKS)
})

export const helpMessage = (problem: string | null): SlackMessage =>
  withinLimits({
    text: "Frugal: /frugal plan <example or spec>, /frugal gpus <GPU>, /frugal waste [period], /frugal submit <example or spec>, /frugal queue",
    blocks: [
      ...(problem === null ? [] : [{ type: "section" as const, text: mrkdwn(`:warning: ${escapeMrkdwn(problem)}`) }]),
      {
        type: "section",
        text: mrkdwn(
          "*Frugal* answers:\n" +
            "• `/frugal plan llama-7b-finetune`: the cheapest placement that meets the deadline (an example name, " +
            "or an inline spec such as `{name: demo, kind: batch, batch: {gpuHours: 10, referenceGpu: T4, minGpuMemoryGiB: 16}}`)\n" +
            "• `/frugal gpus H100`: instance types with that GPU, on-demand and spot prices\n" +
            "• `/frugal waste 30d`: where the GPU money went, and what to change\n" +
            "• `/frugal submit [--priority N] tiny-train`: queue the work on frugal server for the bot's team\n" +
            "• `/frugal queue`: what waits (and why: budget, gpus, quota, priority) and what runs, each with a Cancel button"
        )
      }
    ]
  })

const optionLine = (option: PlacementOption, costPeriod: Plan["costPeriod"]): string =>
  `${option.instanceCount}× ${option.instanceType} (${option.gpusPerInstance}× ${option.gpu}) ${option.purchaseOption}` +
  ` in ${option.availabilityZone ?? option.region}: ${formatUsd(option.expectedCostUsd)}${costPeriod === "month" ? "/month" : ""}, ` +
  `${option.expectedHours.toFixed(1)} h${option.meetsDeadline ? "" : " (misses the deadline)"}` +
  (option.interruptionRisk === null ? "" : `, interruptions ${option.interruptionRisk.label}`)

export const planMessage = (plan: Plan, spec: string): SlackMessage => {
  const best = plan.options[0]
  const buttons: Block = {
    type: "actions",
    block_id: "plan-actions",
    elements: [
      { type: "button", action_id: ALTERNATIVES_ACTION, text: plain("Show alternatives", 75), value: clip(`plan:${spec}`, 2000) },
      { type: "button", action_id: EXPLAIN_ACTION, text: plain("Explain", 75), value: clip(`plan:${spec}`, 2000) }
    ]
  }
  return withinLimits({
    text: best === undefined ? `${plan.workload}: no options` : `${plan.workload}: ${optionLine(best, plan.costPeriod)}`,
    blocks: [
      { type: "header", text: plain(`Plan for ${plan.workload}`, 150) },
      {
        type: "section",
        text: mrkdwn(
          best === undefined
            ? "No placement found."
            : `*Recommended:* ${escapeMrkdwn(optionLine(best, plan.costPeriod))}\n` +
              `Needs ${plan.requirements.minGpus}× ${plan.requirements.accelerator} ` +
              `(${plan.requirements.perGpuMemoryGiB.toFixed(1)} GiB per GPU, ${plan.requirements.sharding})` +
              (best.checkpointEveryMinutes === null ? "" : `; checkpoint every ${best.checkpointEveryMinutes.toFixed(0)} min`)
        )
      },
      buttons,
      { type: "context", elements: [mrkdwn(escapeMrkdwn(`Prices: ${plan.catalog.description} (${plan.catalog.asOf}).`))] }
    ]
  })
}

export const planAlternativesMessage = (plan: Plan): SlackMessage =>
  withinLimits({
    text: `${plan.workload}: ${plan.options.length} options`,
    blocks: [
      { type: "header", text: plain(`Alternatives for ${plan.workload}`, 150) },
      {
        type: "section",
        text: mrkdwn(plan.options.slice(0, 10).map((option, index) => `${index + 1}. ${escapeMrkdwn(optionLine(option, plan.costPeriod))}`).join("\n"))
      }
    ]
  })

export const planExplanationMessage = (plan: Plan): SlackMessage => {
  const best = plan.options[0]
  return withinLimits({
    text: `Why ${plan.workload} goes where it goes`,
    blocks: [{
      type: "section",
      text: mrkdwn(
        best === undefined
          ? "No option to explain."
          : `*Why ${escapeMrkdwn(best.instanceType)} ${best.purchaseOption}:* ${escapeMrkdwn(best.reason)}\n` +
            `Hourly ${formatUsdPerHour(best.hourlyPriceUsd)}; ${best.baseHours.toFixed(1)} h of compute, ${best.expectedHours.toFixed(1)} h expected` +
            (best.savingVsOnDemandUsd === null ? "" : `; saves ${formatUsd(best.savingVsOnDemandUsd)} against on-demand`) +
            (best.breakEvenUtilization === null ? "" : `; break-even utilisation ${(best.breakEvenUtilization * 100).toFixed(0)}%`) +
            `.\n${plan.notes.map(escapeMrkdwn).join(" ")}`
      )
    }]
  })
}

export interface GpuRow {
  readonly instanceType: string
  readonly accelerator: string
  readonly gpus: number
  readonly memoryGiB: number
  readonly onDemand: number | null
  readonly spot: Offer | null
}

export const gpusMessage = (gpu: string, region: string, rows: ReadonlyArray<GpuRow>): SlackMessage =>
  withinLimits({
    text: `${gpu} instances in ${region}: ${rows.length}`,
    blocks: [
      { type: "header", text: plain(`${gpu} instances in ${region}`, 150) },
      {
        type: "section",
        text: mrkdwn(
          rows.length === 0
            ? `No ${escapeMrkdwn(gpu)} instances in ${escapeMrkdwn(region)}.`
            : rows.slice(0, 25).map((row) =>
              // Names come from the catalog, which may be the user's own file: escaped like any other input.
              `• *${escapeMrkdwn(row.instanceType)}* ${row.gpus}× ${escapeMrkdwn(row.accelerator)} (${row.memoryGiB.toFixed(0)} GiB each): ` +
              `on-demand ${row.onDemand === null ? "n/a" : formatUsdPerHour(row.onDemand)}, spot ` +
              (row.spot === null ? "n/a" : `${formatUsdPerHour(row.spot.hourlyPriceUsd)} in ${escapeMrkdwn(row.spot.availabilityZone ?? region)}`)
            ).join("\n")
        )
      }
    ]
  })

export const errorMessage = (text: string): SlackMessage =>
  withinLimits({ text, blocks: [{ type: "section", text: mrkdwn(`:warning: ${escapeMrkdwn(text)}`) }] })
