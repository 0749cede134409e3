/**
 * The `frugal` command: wiring only. Each subcommand lives in `commands/<name>.ts` and is listed in
 * `subcommands` below; to add one, import it and append it to the list (nothing else here changes).
 *
 * Startup time matters (`frugal plan` end to end ≤ 400 ms), so:
 * - import effect modules deeply (`effect/Effect`, not the `effect` barrel) in CLI code;
 * - a command that needs a heavy dependency (AWS SDK, Slack, Kubernetes, SQLite) loads it through
 *   `lazy(() => import(...))` from `Lazy.ts`, so `frugal plan` never loads it;
 * - `scripts/bundle-cli.ts` bundles this file into `dist/frugal.js`, which `bin/frugal.js` prefers.
 *
 * Failures become exit codes and stderr lines in `ExitCode.ts`; no stack trace unless `FRUGAL_DEBUG=1`.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Command from "effect/cli/Command"
import * as CliOutput from "effect/cli/CliOutput"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import packageJson from "../package.json" with { type: "json" }
import { estimate } from "./commands/estimate.ts"
import { drill } from "./commands/drill.ts"
import { gpus } from "./commands/gpus.ts"
import { logs } from "./commands/logs.ts"
import { plan } from "./commands/plan.ts"
import { prices } from "./commands/prices.ts"
import { report } from "./commands/report.ts"
import { slack } from "./commands/slack.ts"
import { run } from "./commands/run.ts"
import { service } from "./commands/service/index.ts"
import { simulate } from "./commands/simulate.ts"
import { status } from "./commands/status.ts"
import { server } from "./commands/server.ts"
import { submit } from "./commands/submit.ts"
import { queue } from "./commands/queue.ts"
import { cancel } from "./commands/cancel.ts"
import { debugEnabled, outcomeOfExit } from "./ExitCode.ts"

const subcommands = [
  plan,
  estimate,
  gpus,
  run,
  status,
  logs,
  drill,
  report,
  slack,
  prices,
  simulate,
  service,
  server,
  submit,
  queue,
  cancel
] as const

export const frugal = Command.make("frugal").pipe(
  Command.withDescription(
    "Plan, price and run GPU training and inference on AWS: the cheapest placement that still meets the deadline."
  ),
  Command.withSubcommands(subcommands)
)

/**
 * Parse errors go to stderr with a pointer to `--help` instead of the whole help text: a user who
 * typed `--tpo 3` wants to see the mistake, and scripts that read stdout must not get a help page.
 */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.gen(function*() {
      const formatter = CliOutput.defaultFormatter({ colors: process.stdout.isTTY === true })
      switch (event._tag) {
        case "Help":
          return yield* Console.log(formatter.formatHelpDoc(event.helpDoc))
        case "Version":
          return yield* Console.log(formatter.formatVersion(event.name, event.version))
        case "InvalidInvocation":
          yield* Console.error(CliOutput.defaultFormatter({ colors: false }).formatErrors(event.errors))
          return yield* Console.error(`Run \`${event.commandPath.join(" ")} --help\` for usage.`)
      }
    })
}

const debug = debugEnabled(process.env)

Command.run(frugal, { version: packageJson.version }).pipe(
  Effect.provideService(CliOutput.Presenter, presenter),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      const outcome = outcomeOfExit(exit, debug)
      for (const line of outcome.stderr) process.stderr.write(`${line}\n`)
      onExit(outcome.code)
    }
  })
)
