/** `frugal submit` behind its flags: read the file, send it, print the answer. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd } from "@frugal/core"
import { submitWorkload } from "@frugal/sdk/scheduler"
import { readWorkloadText } from "../../WorkloadInput.ts"

export interface SubmitInput {
  readonly file: string
  readonly team: Option.Option<string>
  readonly priority: Option.Option<number>
  readonly server: Option.Option<string>
  readonly json: boolean
}

export const run = (input: SubmitInput) =>
  Effect.gen(function*() {
    const text = yield* readWorkloadText(input.file)
    const answer = yield* submitWorkload(text, {
      server: Option.getOrUndefined(input.server),
      team: Option.getOrUndefined(input.team),
      priority: Option.getOrUndefined(input.priority)
    })
    yield* Console.log(
      input.json
        ? JSON.stringify(answer, null, 2)
        : `${answer.id}: ${answer.state}${answer.reason === null ? "" : ` (${answer.reason})`}, expected ${formatUsd(answer.expectedCostUsd)}, ${answer.gpus} GPUs\n` +
          `  follow it with: frugal queue   cancel it with: frugal cancel ${answer.id}`
    )
  })
