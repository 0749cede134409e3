/** `frugal queue` behind its flags: the server's list as a table or JSON. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd } from "@frugal/core"
import { listQueue } from "@frugal/sdk/scheduler"
import { renderTable } from "../../Table.ts"
import { isoTime } from "../runner/Format.ts"

export interface QueueInput {
  readonly server: Option.Option<string>
  readonly team: Option.Option<string>
  readonly state: Option.Option<string>
  readonly json: boolean
}

export const run = (input: QueueInput) =>
  Effect.gen(function*() {
    const answer = yield* listQueue({
      server: Option.getOrUndefined(input.server),
      team: Option.getOrUndefined(input.team),
      state: Option.getOrUndefined(input.state)
    })
    if (input.json) return yield* Console.log(JSON.stringify(answer, null, 2))
    if (answer.jobs.length === 0) return yield* Console.log("no jobs")
    yield* Console.log(renderTable(
      [
        { header: "JOB" },
        { header: "TEAM" },
        { header: "STATE" },
        { header: "REASON" },
        { header: "PRIORITY", align: "right" },
        { header: "GPUS", align: "right" },
        { header: "SUBMITTED" },
        { header: "EXPECTED", align: "right" },
        { header: "COST", align: "right" }
      ],
      answer.jobs.map((job) => [
        job.id,
        job.team,
        job.state,
        job.reason ?? "",
        String(job.priority),
        String(job.gpus),
        isoTime(job.submittedAtMillis),
        formatUsd(job.expectedCostUsd),
        formatUsd(job.costUsd)
      ])
    ).join("\n"))
  })
