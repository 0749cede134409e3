/**
 * `frugal service plan|simulate|apply|status FILE …`: inference services that scale themselves (docs/serving.md).
 * Each subcommand declares its flags here and loads its implementation (and @frugal/serving, and for the AWS
 * engine the AWS SDK) only when it runs.
 */
import * as Command from "effect/cli/Command"
import { serviceApply } from "./apply.ts"
import { servicePlan } from "./plan.ts"
import { serviceSimulate } from "./simulate.ts"
import { serviceStatus } from "./status.ts"

export const service = Command.make("service").pipe(
  Command.withDescription("Inference services that scale themselves: plan, simulate against traces, apply to EC2 Auto Scaling or Kubernetes, status"),
  Command.withSubcommands([servicePlan, serviceSimulate, serviceApply, serviceStatus])
)
