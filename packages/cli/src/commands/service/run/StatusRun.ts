/** `frugal service status`: desired and ready replicas of the Auto Scaling group, by market and zone. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { serviceStatus } from "@frugal/sdk/service"
import { catalogLayer } from "../../../Catalogs.ts"
import { environment } from "../../../Environment.ts"
import { serviceFile } from "./ServiceFile.ts"

interface Input {
  readonly file: string
  readonly engine: "ec2-asg" | "kubernetes"
  readonly infra: Option.Option<string>
  readonly catalog: string
  readonly json: boolean
}

export const run = Effect.fnUntraced(function*(input: Input) {
  const { text, source } = yield* serviceFile(input.file)
  const status = yield* serviceStatus(text, { source, engine: input.engine, infra: Option.getOrUndefined(input.infra), env: environment }).pipe(
    Effect.provide(catalogLayer(input.catalog))
  )
  if (input.json) return yield* Console.log(JSON.stringify(status, null, 2))
  if (!status.exists) return yield* Console.log(`${status.groupName} does not exist in ${status.region}.`)
  yield* Console.log([
    `${status.groupName} in ${status.region}: ${status.ready} of ${status.desired} desired replicas ready (min ${status.min}, max ${status.max}).`,
    `  spot: ${status.byMarket.spot.ready}/${status.byMarket.spot.instances} ready; on-demand: ${status.byMarket.onDemand.ready}/${status.byMarket.onDemand.instances} ready.`,
    ...Object.entries(status.byZone).map(([zone, z]) =>
      `  ${zone}: spot ${z.spot.ready}/${z.spot.instances}, on-demand ${z.onDemand.ready}/${z.onDemand.instances}`
    )
  ].join("\n"))
})
