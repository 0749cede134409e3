/**
 * The `frugal` command: wiring only. Each subcommand lives in `commands/<name>.ts` and is listed in
 * `Commands.ts`; to add one, import it there and append it to the list, and give it its SDK counterpart
 * (`test/SdkParity.test.ts` checks that every command has one).
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
import { frugal } from "./Commands.ts"
import { debugEnabled, outcomeOfExit } from "./ExitCode.ts"

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
