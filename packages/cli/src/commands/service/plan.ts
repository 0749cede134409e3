/** `frugal service plan FILE [--requests CSV] [--json] [--catalog …]`: instance type, zones, on-demand/spot split, monthly cost. */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { catalogFlag } from "../../Catalogs.ts"
import { lazy } from "../../Lazy.ts"
import { file, json } from "./Flags.ts"

export const requestsForMix = Flag.String("requests").pipe(
  Flag.withDescription("A request trace (TIMESTAMP,ContextTokens,GeneratedTokens or minute,requests[,contextTokens,generatedTokens]) for the request mix"),
  Flag.withMetavar("CSV"),
  Flag.optional
)

export const servicePlan = Command.make(
  "plan",
  { file, json, requests: requestsForMix, catalog: catalogFlag },
  lazy(() => import("./run/PlanRun.ts"))
).pipe(Command.withDescription("Plan a service: replica instance type, region and zones, on-demand base and spot, monthly cost"))
