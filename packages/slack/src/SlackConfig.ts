/**
 * Slack credentials from the environment, held as `Redacted` so they never reach a log line:
 * SLACK_BOT_TOKEN (xoxb-…), SLACK_SIGNING_SECRET, optional SLACK_API_URL (Web API base, e.g. a test server).
 */
import { InvalidInput } from "@frugal/core"
import { Config, Effect, Option, Redacted } from "effect"

export interface SlackCredentials {
  readonly token: Redacted.Redacted<string>
  readonly signingSecret: Redacted.Redacted<string> | null
  readonly apiUrl: string | undefined
}

const missing = (name: string, what: string) =>
  new InvalidInput({ source: "environment", issues: [{ path: name, expected: what }] })

export const slackCredentials = (options: { readonly needSigningSecret: boolean }): Effect.Effect<SlackCredentials, InvalidInput> =>
  Effect.gen(function*() {
    const token = yield* Config.option(Config.Redacted("SLACK_BOT_TOKEN")).pipe(Effect.orElseSucceed(() => Option.none()))
    const secret = yield* Config.option(Config.Redacted("SLACK_SIGNING_SECRET")).pipe(Effect.orElseSucceed(() => Option.none()))
    const apiUrl = yield* Config.option(Config.String("SLACK_API_URL")).pipe(Effect.orElseSucceed(() => Option.none()))
    if (Option.isNone(token)) return yield* missing("SLACK_BOT_TOKEN", "the bot token (xoxb-...) of the Slack app")
    if (options.needSigningSecret && Option.isNone(secret)) {
      return yield* missing("SLACK_SIGNING_SECRET", "the Slack app's signing secret (Basic Information page)")
    }
    return {
      token: token.value,
      signingSecret: Option.getOrNull(secret),
      apiUrl: Option.getOrUndefined(apiUrl)
    }
  })

export { Redacted }
