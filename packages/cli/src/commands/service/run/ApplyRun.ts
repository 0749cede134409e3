/**
 * `frugal service apply`: EC2 Auto Scaling (create/update, or `--delete`; `--dry-run` prints the requests) or
 * Kubernetes (`--dry-run` prints the objects for `kubectl apply -f -`), through the SDK's `serviceApply`.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { stringify } from "yaml"
import { serviceApply, type ServiceApplyResult } from "@frugal/sdk/service"
import { catalogLayer } from "../../../Catalogs.ts"
import { environment } from "../../../Environment.ts"
import { serviceFile, serviceFlagNames } from "./ServiceFile.ts"

interface Input {
  readonly file: string
  readonly engine: "ec2-asg" | "kubernetes"
  readonly infra: Option.Option<string>
  readonly catalog: string
  readonly dryRun: boolean
  readonly delete: boolean
  readonly json: boolean
}

const output = (result: ServiceApplyResult, json: boolean): string => {
  switch (result.action) {
    case "print":
      return result.engine === "kubernetes"
        ? json ? JSON.stringify(result.objects, null, 2) : result.objects.map((o) => stringify(o, { aliasDuplicateObjects: false })).join("---\n")
        : JSON.stringify(result.requests, null, 2)
    case "delete":
      if (result.dryRun) return `Would delete ${result.groupName} in ${result.region} with its policies and alarms.`
      return json
        ? JSON.stringify(result.outcome, null, 2)
        : `${result.outcome.groupName} in ${result.outcome.region}: ${result.outcome.groupDeleted ? "deleted" : "not there"}; alarms deleted: ${result.outcome.alarmsDeleted.join(", ") || "none"}.`
    case "apply": {
      const outcome = result.outcome
      return json
        ? JSON.stringify(outcome, null, 2)
        : [
          `${outcome.groupName} in ${outcome.region}: ${outcome.group}${outcome.changed.length === 0 ? "" : ` (${outcome.changed.join(", ")})`}.`,
          `Policies: ${outcome.policies.join(", ")}${outcome.deletedPolicies.length === 0 ? "" : `; removed ${outcome.deletedPolicies.join(", ")}`}.`,
          `Alarms: ${outcome.alarms.join(", ")}.`
        ].join("\n")
    }
  }
}

export const run = Effect.fnUntraced(function*(input: Input) {
  const { text, source } = yield* serviceFile(input.file)
  const result = yield* serviceApply(text, {
    source,
    engine: input.engine,
    infra: Option.getOrUndefined(input.infra),
    dryRun: input.dryRun,
    delete: input.delete,
    env: environment
  }).pipe(serviceFlagNames, Effect.provide(catalogLayer(input.catalog)))
  yield* Console.log(output(result, input.json))
})
