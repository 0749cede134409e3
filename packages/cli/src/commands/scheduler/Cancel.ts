/** `frugal cancel` behind its flags. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { cancelQueued } from "@frugal/sdk/scheduler"

export interface CancelInput {
  readonly job: string
  readonly server: Option.Option<string>
  readonly json: boolean
}

export const run = (input: CancelInput) =>
  Effect.gen(function*() {
    const answer = yield* cancelQueued(input.job, { server: Option.getOrUndefined(input.server) })
    yield* Console.log(
      input.json
        ? JSON.stringify(answer, null, 2)
        : answer.state === "running" && answer.cancelRequested
        ? `${answer.id}: stopping (it writes a final checkpoint first)`
        : `${answer.id}: ${answer.state}`
    )
  })
