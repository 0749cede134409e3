/**
 * `frugal slack serve`: the bot until stopped, over HTTP (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET) or,
 * with `socketMode`, over a Socket Mode WebSocket (SLACK_BOT_TOKEN, SLACK_APP_TOKEN).
 */
import { type InvalidInput, LocalFailure, RemoteServiceFailure } from "@frugal/core"
import type { PriceCatalog } from "@frugal/pricing"
import { decodeUtilizationFlags, reportSources } from "@frugal/waste"
import { Config, Effect, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { serverAccess } from "@frugal/scheduler/api"
import { makeFrugalBot } from "./FrugalBot.ts"
import { slackCredentials } from "./SlackConfig.ts"
import { makeSocketModeBot } from "./SocketModeBot.ts"

export interface ServeOptions {
  /** Connect out over Socket Mode instead of listening for HTTP requests. */
  readonly socketMode?: boolean | undefined
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

const describeListenError = (cause: unknown): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  if (code === "EADDRINUSE") return "the port is already in use (EADDRINUSE)"
  if (code === "EACCES") return "permission denied (EACCES): ports below 1024 need privileges"
  if (code === "EADDRNOTAVAIL") return "no such address on this machine (EADDRNOTAVAIL)"
  return cause instanceof Error ? cause.message : String(cause)
}

export const serveSlack = (options: ServeOptions): Effect.Effect<never, InvalidInput | RemoteServiceFailure | LocalFailure> =>
  Effect.gen(function*() {
    const socketMode = options.socketMode === true
    const credentials = yield* slackCredentials({ needSigningSecret: !socketMode, needAppToken: socketMode })
    const utilization = yield* decodeUtilizationFlags(options)
    // `/frugal submit` and `/frugal queue` need frugal server; without FRUGAL_SERVER the bot answers the rest.
    const server = yield* Config.option(Config.String("FRUGAL_SERVER")).pipe(Effect.orElseSucceed(() => Option.none()))
    const queue = Option.isNone(server) || server.value === "" ? undefined : yield* serverAccess()
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ManagedRuntime.make(Layer.mergeAll(
          options.catalog,
          reportSources({ ceFiles: options.ceFiles, ...utilization })
        ))
      ),
      (runtime) => Effect.promise(() => runtime.dispose())
    )
    if (credentials.appToken !== null) {
      const appToken = credentials.appToken
      const bot = makeSocketModeBot({
        token: Redacted.value(credentials.token),
        appToken: Redacted.value(appToken),
        slackApiUrl: credentials.apiUrl,
        examplesDir: options.examplesDir,
        runtime,
        log: options.log,
        queue
      })
      yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () => bot.receiver.start(),
          catch: (cause) =>
            new RemoteServiceFailure({
              service: "Slack",
              operation: "apps.connections.open",
              detail: (cause instanceof Error ? cause.message : String(cause)).split(Redacted.value(appToken)).join("<redacted>")
            })
        }),
        () => Effect.promise(() => bot.receiver.stop())
      )
      options.log("Frugal's Slack bot connected over Socket Mode")
      return yield* Effect.never
    }
    const bot = makeFrugalBot({
      token: Redacted.value(credentials.token),
      signingSecret: credentials.signingSecret === null ? "" : Redacted.value(credentials.signingSecret),
      slackApiUrl: credentials.apiUrl,
      examplesDir: options.examplesDir,
      runtime,
      log: options.log,
      queue
    })
    const port = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => bot.receiver.start(options.port, options.host),
        // A port in use is this machine's problem, not the user's input and not Slack's: exit 1 saying which.
        catch: (cause) => new LocalFailure({ operation: `listen on ${options.host}:${options.port}`, detail: describeListenError(cause) })
      }),
      () => Effect.promise(() => bot.receiver.stop())
    )
    options.log(`Frugal's Slack bot listening on http://${options.host}:${port}/slack/events`)
    return yield* Effect.never
  }).pipe(Effect.scoped)
