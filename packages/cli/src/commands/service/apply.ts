/** `frugal service apply FILE --engine ec2-asg|kubernetes [--infra F] [--dry-run] [--delete] [--json]`. */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { catalogFlag } from "../../Catalogs.ts"
import { lazy } from "../../Lazy.ts"
import { engine, file, infra, json } from "./Flags.ts"

const dryRun = Flag.Boolean("dry-run").pipe(Flag.withDescription("Print what would be created, change nothing"), Flag.withDefault(false))
const remove = Flag.Boolean("delete").pipe(Flag.withDescription("Delete the service (group, policies, alarm)"), Flag.withDefault(false))

export const serviceApply = Command.make(
  "apply",
  { file, engine, infra, dryRun, delete: remove, catalog: catalogFlag, json },
  lazy(() => import("./run/ApplyRun.ts"))
).pipe(Command.withDescription("Create or update the service on an engine (or --delete it); --dry-run prints the requests or objects"))
