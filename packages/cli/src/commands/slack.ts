/**
 * `frugal slack serve [--port N] [--host H] [--socket-mode]`: the Slack bot (`/frugal plan|gpus|waste`).
 * Over HTTP it needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, with the app's slash command and
 * interactivity URLs at `https://<host>/slack/events`; with --socket-mode it connects out over a
 * WebSocket instead and needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN. Slack and the AWS SDK load only here.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { catalogFlag, catalogLayer } from "../Catalogs.ts"
import { within } from "../FlagBounds.ts"

const port = Flag.Int("port").pipe(
  Flag.withDescription("Port to listen on (0: any free port)"),
  within("port", 0, 65535, "a port"),
  Flag.withDefault(3000)
)
const host = Flag.String("host").pipe(Flag.withDescription("Address to listen on"), Flag.withDefault("0.0.0.0"))
const socketMode = Flag.Boolean("socket-mode").pipe(
  Flag.withDescription("Connect to Slack over Socket Mode (SLACK_APP_TOKEN, xapp-...) instead of listening for HTTP; --port and --host are unused"),
  Flag.withDefault(false)
)
const ceFile = Flag.String("ce-file").pipe(
  Flag.withDescription("Answer /frugal waste from these Cost Explorer files instead of the live API (repeatable, or a directory)"),
  Flag.atLeast(0)
)
const utilizationFile = Flag.String("utilization-file").pipe(
  Flag.withDescription("GPU utilisation from this `aws cloudwatch get-metric-data` output instead of CloudWatch"),
  Flag.optional
)
const prometheusUrl = Flag.String("prometheus-url").pipe(
  Flag.withDescription("GPU utilisation from this Prometheus server scraping dcgm-exporter instead of CloudWatch (docs/waste.md)"),
  Flag.optional
)
const examples = Flag.String("examples").pipe(
  Flag.withDescription("Directory of example workloads for `/frugal plan <name>`"),
  Flag.withDefault("examples")
)

const serve = Command.make(
  "serve",
  { socketMode, port, host, ceFile, utilizationFile, prometheusUrl, examples, catalog: catalogFlag },
  Effect.fnUntraced(function*(input) {
    const slack = yield* Effect.promise(() => import("@frugal/slack"))
    yield* slack.serveSlack({
      socketMode: input.socketMode,
      port: input.port,
      host: input.host,
      ceFiles: input.ceFile,
      utilizationFile: Option.getOrUndefined(input.utilizationFile),
      prometheusUrl: Option.getOrUndefined(input.prometheusUrl),
      examplesDir: input.examples,
      catalog: catalogLayer(input.catalog),
      log: (line: string) => process.stderr.write(`${line}\n`)
    })
  })
).pipe(Command.withDescription(
  "Serve the Slack bot over HTTP (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET) or Socket Mode (--socket-mode: SLACK_BOT_TOKEN, SLACK_APP_TOKEN)"
))

export const slack = Command.make("slack").pipe(
  Command.withDescription("Frugal in Slack: slash commands and the weekly digest"),
  Command.withSubcommands([serve])
)
