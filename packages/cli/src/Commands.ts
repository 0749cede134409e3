/**
 * The `frugal` command tree: every subcommand, declared (flags, arguments, help) but not run. `main.ts` runs it;
 * `test/SdkParity.test.ts` walks it to check that each command has its counterpart in the SDK.
 */
import * as Command from "effect/cli/Command"
import { drill } from "./commands/drill.ts"
import { estimate } from "./commands/estimate.ts"
import { cancel } from "./commands/cancel.ts"
import { gpus } from "./commands/gpus.ts"
import { logs } from "./commands/logs.ts"
import { plan } from "./commands/plan.ts"
import { prices } from "./commands/prices.ts"
import { queue } from "./commands/queue.ts"
import { report } from "./commands/report.ts"
import { run } from "./commands/run.ts"
import { server } from "./commands/server.ts"
import { service } from "./commands/service/index.ts"
import { simulate } from "./commands/simulate.ts"
import { slack } from "./commands/slack.ts"
import { status } from "./commands/status.ts"
import { submit } from "./commands/submit.ts"

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
