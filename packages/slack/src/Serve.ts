/** `frugal slack serve`: the bot over HTTP until stopped. Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET. */
import type { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import type { PriceCatalog } from "@frugal/pricing"
import { decodeUtilizationFlags, reportSources } from "@frugal/waste"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { makeFrugalBot } from "./FrugalBot.ts"
import { slackCredentials } from "./SlackConfig.ts"

export interface ServeOptions {
  readonly port: number
  readonly host: string
  readonly ceFiles: ReadonlyArray<string>
  readonly utilizationFile?: string | undefined
  /** GPU utilisation from this Prometheus server (dcgm-exporter) instead of CloudWatch. */
  readonly prometheusUrl?: string | undefined
  readonly examplesDir: string
  readonly catalog: Layer.Layer<PriceCatalog, InvalidInput | RemoteServiceFailure>
  readonly log: (line: string) => void
}

export const serveSlack = (options: ServeOptions): Effect.Effect<never, InvalidInput | RemoteServiceFailure> =>
  Effect.gen(function*() {
    const credentials = yield* slackCredentials({ needSigningSecret: true })
    const utilization = yield* decodeUtilizationFlags(options)
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ManagedRuntime.make(Layer.mergeAll(
          options.catalog,
          reportSources({ ceFiles: options.ceFiles, ...utilization })
        ))
      ),
      (runtime) => Effect.promise(() => runtime.dispose())
    )
    const bot = makeFrugalBot({
      token: Redacted.value(credentials.token),
      signingSecret: credentials.signingSecret === null ? "" : Redacted.value(credentials.signingSecret),
      slackApiUrl: credentials.apiUrl,
      examplesDir: options.examplesDir,
      runtime,
      log: options.log
    })
    const port = yield* Effect.acquireRelease(
      Effect.promise(() => bot.receiver.start(options.port, options.host)),
      () => Effect.promise(() => bot.receiver.stop())
    )
    options.log(`Frugal's Slack bot listening on http://${options.host}:${port}/slack/events`)
    return yield* Effect.never
  }).pipe(Effect.scoped)
