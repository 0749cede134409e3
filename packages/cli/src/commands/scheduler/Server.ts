/** `frugal server` behind its flags (loaded lazily: the ledger, the engines and `pg` load only here). */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { lazyServiceQuotas } from "@frugal/sdk/jobs"
import { serveFrugal } from "@frugal/sdk/scheduler"
import packageJson from "../../../package.json" with { type: "json" }
import { catalogLayer } from "../../Catalogs.ts"
import { environment } from "../../Environment.ts"

export interface ServerInput {
  readonly config: string
  readonly infra: Option.Option<string>
  readonly ledger: Option.Option<string>
  readonly host: string
  readonly port: number
  readonly catalog: string
}

export const run = (input: ServerInput) =>
  Effect.asVoid(serveFrugal({
    config: input.config,
    infra: Option.getOrUndefined(input.infra),
    ledger: Option.getOrUndefined(input.ledger),
    host: input.host,
    port: input.port,
    catalog: catalogLayer(input.catalog),
    quotas: lazyServiceQuotas,
    version: packageJson.version,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)
  }, environment))
