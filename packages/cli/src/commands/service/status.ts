/** `frugal service status FILE --engine ec2-asg [--infra F] [--json]`: desired and ready replicas by market and zone. */
import * as Command from "effect/cli/Command"
import { catalogFlag } from "../../Catalogs.ts"
import { lazy } from "../../Lazy.ts"
import { engine, file, infra, json } from "./Flags.ts"

export const serviceStatus = Command.make(
  "status",
  { file, engine, infra, catalog: catalogFlag, json },
  lazy(() => import("./run/StatusRun.ts"))
).pipe(Command.withDescription("Desired and ready replicas of the service, by market and zone"))
