/**
 * The Bolt app: `/frugal plan|gpus|waste|submit|queue`, the "Show alternatives" / "Explain" buttons and the queue's
 * "Cancel" buttons (submit, queue and cancel go to `frugal server` when the bot is given one).
 * Every handler acknowledges first (Slack's three-second limit), then computes and answers through
 * `respond` (the request's response_url). Answers run as Effects on one runtime holding the price
 * catalog and the report sources, so clients are created once.
 */
import type { PriceCatalog } from "@frugal/pricing"
import { ALTERNATIVES_ACTION, type CostSource, EXPLAIN_ACTION, type LostWorkSource, renderBlockKit, type SlackMessage, type UtilizationSource, type WasteReport } from "@frugal/waste"
import { App, LogLevel } from "@slack/bolt"
import { Cause, Effect, Exit, type ManagedRuntime, Option, Schema } from "effect"
import { type AnswerError, explainFinding, findingDetails, gpusFor, planFor, wasteFor } from "./BotAnswers.ts"
import { errorMessage, helpMessage, planAlternativesMessage, planExplanationMessage, planMessage } from "./Messages.ts"
import type { ServerAccess } from "@frugal/scheduler/api"
import { CANCEL_ACTION, cancelAnswer, queueAnswer, submitAnswer } from "./QueueAnswers.ts"
import { SignedRequestReceiver } from "./SignedRequestReceiver.ts"
import { parseSlashCommand, type SlashRequest } from "./SlashCommand.ts"

/** The part of a block_actions payload the buttons need. */
const decodeButtonBody = Schema.decodeUnknownOption(Schema.Struct({
  actions: Schema.Array(Schema.Struct({ value: Schema.optional(Schema.String) })),
  channel: Schema.optional(Schema.Struct({ id: Schema.String }))
}))

export type BotServices = PriceCatalog | CostSource | UtilizationSource | LostWorkSource

/** What the answers need, whichever way requests arrive (signed HTTP or Socket Mode). */
export interface BotAnswerOptions {
  readonly token: string
  /** Web API base URL (tests point it at a loopback server); Slack's by default. */
  readonly slackApiUrl?: string | undefined
  /** Where `/frugal plan <name>` finds `<name>.yaml`. */
  readonly examplesDir: string
  readonly region?: string | undefined
  readonly runtime: ManagedRuntime.ManagedRuntime<BotServices, AnswerError>
  readonly now?: (() => number) | undefined
  readonly log: (line: string) => void
  /** `frugal server` and the token the bot acts with, for `/frugal submit` and `/frugal queue`; absent: not offered. */
  readonly queue?: ServerAccess | undefined
}

export interface BotOptions extends BotAnswerOptions {
  readonly signingSecret: string
}

export interface FrugalBot {
  readonly app: App
  readonly receiver: SignedRequestReceiver
}

export const makeFrugalBot = (options: BotOptions): FrugalBot => {
  const receiver = new SignedRequestReceiver({
    signingSecret: options.signingSecret,
    ...(options.now === undefined ? {} : { now: options.now }),
    onRejected: (reason) => options.log(`rejected a request: ${reason}`)
  })
  const app = new App({
    token: options.token,
    receiver,
    tokenVerificationEnabled: false,
    logLevel: LogLevel.ERROR,
    clientOptions: options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }
  })
  answerSlashCommands(app, options)
  return { app, receiver }
}

/** Registers `/frugal` and its buttons on `app`; the receiver decides how requests arrive. */
export const answerSlashCommands = (app: App, options: BotAnswerOptions): void => {
  // The last waste report per channel, for its buttons.
  const lastReports = new Map<string, WasteReport>()

  const answer = async (effect: Effect.Effect<SlackMessage, AnswerError, BotServices>): Promise<SlackMessage> => {
    const exit = await options.runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.findErrorOption(exit.cause)
    if (failure._tag === "Some") return errorMessage(failure.value.message)
    options.log(`bot answer failed: ${Cause.pretty(exit.cause)}`)
    return errorMessage("Something went wrong on Frugal's side; the error is in its log.")
  }

  const slash = (request: SlashRequest, channel: string): Effect.Effect<SlackMessage, AnswerError, BotServices> => {
    switch (request.kind) {
      case "plan":
        return Effect.map(planFor(request.spec, options.examplesDir), (plan) => planMessage(plan, request.spec))
      case "gpus":
        return gpusFor(request.gpu, options.region ?? "us-east-1")
      case "waste":
        return Effect.map(wasteFor(request.since), (report) => {
          lastReports.set(channel, report)
          return renderBlockKit(report)
        })
      case "submit":
        return options.queue === undefined ? Effect.succeed(noServer) : submitAnswer(options.queue, request, options.examplesDir)
      case "queue":
        return options.queue === undefined ? Effect.succeed(noServer) : queueAnswer(options.queue)
      case "help":
        return Effect.succeed(helpMessage(request.problem))
    }
  }
  const noServer = errorMessage("This bot has no frugal server to queue work on (start it with FRUGAL_SERVER and FRUGAL_TOKEN).")

  app.command("/frugal", async ({ command, ack, respond }) => {
    await ack()
    const message = await answer(slash(parseSlashCommand(command.text), command.channel_id))
    await respond({ response_type: "in_channel", text: message.text, blocks: [...message.blocks] })
  })

  const buttonValue = (body: unknown): { readonly value: string; readonly channel: string } => {
    const decoded = decodeButtonBody(body)
    return Option.isSome(decoded)
      ? { value: decoded.value.actions[0]?.value ?? "", channel: decoded.value.channel?.id ?? "" }
      : { value: "", channel: "" }
  }

  app.action(EXPLAIN_ACTION, async ({ body, ack, respond }) => {
    await ack()
    const { value } = buttonValue(body)
    const message = value.startsWith("plan:")
      ? await answer(Effect.map(planFor(value.slice(5), options.examplesDir), planExplanationMessage))
      : explainFinding(value)
    await respond({ response_type: "ephemeral", replace_original: false, text: message.text, blocks: [...message.blocks] })
  })

  app.action(CANCEL_ACTION, async ({ body, ack, respond }) => {
    await ack()
    const { value } = buttonValue(body)
    const message = options.queue === undefined || value === ""
      ? errorMessage("This bot has no frugal server to cancel on.")
      : await answer(cancelAnswer(options.queue, value))
    await respond({ response_type: "ephemeral", replace_original: false, text: message.text, blocks: [...message.blocks] })
  })

  app.action(ALTERNATIVES_ACTION, async ({ body, ack, respond }) => {
    await ack()
    const { channel, value } = buttonValue(body)
    const report = lastReports.get(channel)
    const message = value.startsWith("plan:")
      ? await answer(Effect.map(planFor(value.slice(5), options.examplesDir), planAlternativesMessage))
      : report === undefined
      ? errorMessage("That report is no longer in memory; run `/frugal waste` again.")
      : findingDetails(report, value)
    await respond({ response_type: "ephemeral", replace_original: false, text: message.text, blocks: [...message.blocks] })
  })
}
