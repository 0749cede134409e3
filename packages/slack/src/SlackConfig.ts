/**
 * Slack credentials from the environment, held as `Redacted` so they never reach a log line:
 * SLACK_BOT_TOKEN (xoxb-…), SLACK_SIGNING_SECRET, SLACK_APP_TOKEN (xapp-…, Socket Mode only),
 * optional SLACK_API_URL (Web API base, e.g. a test server).
 */
import { InvalidInput } from "@frugal/core"
import { Config, Effect, Option, Redacted } from "effect"

export interface SlackCredentials {
  readonly token: Redacted.Redacted<string>
  readonly signingSecret: Redacted.Redacted<string> | null
  /** The app-level token, read only when Socket Mode asks for it. */
  readonly appToken: Redacted.Redacted<string> | null
  readonly apiUrl: string | undefined
}

const missing = (name: string, what: string) =>
  new InvalidInput({ source: "environment", issues: [{ path: name, expected: what }] })

export const slackCredentials = (
  options: { readonly needSigningSecret: boolean; readonly needAppToken?: boolean | undefined }
): Effect.Effect<SlackCredentials, InvalidInput> =>
  Effect.gen(function*() {
    const token = yield* Config.option(Config.Redacted("SLACK_BOT_TOKEN")).pipe(Effect.orElseSucceed(() => Option.none()))
    const secret = yield* Config.option(Config.Redacted("SLACK_SIGNING_SECRET")).pipe(Effect.orElseSucceed(() => Option.none()))
    const appToken = options.needAppToken === true
      ? yield* Config.option(Config.Redacted("SLACK_APP_TOKEN")).pipe(Effect.orElseSucceed(() => Option.none()))
      : Option.none()
    const apiUrl = yield* Config.option(Config.String("SLACK_API_URL")).pipe(Effect.orElseSucceed(() => Option.none()))
    if (Option.isNone(token)) return yield* missing("SLACK_BOT_TOKEN", "the bot token (xoxb-...) of the Slack app")
    if (options.needSigningSecret && Option.isNone(secret)) {
      return yield* missing("SLACK_SIGNING_SECRET", "the Slack app's signing secret (Basic Information page)")
    }
    if (options.needAppToken === true) {
      if (Option.isNone(appToken)) {
        return yield* missing("SLACK_APP_TOKEN", "the app-level token (xapp-...) with connections:write, for Socket Mode")
      }
      // Only the prefix is checked, so the message can say what was wrong without echoing the token.
      if (!Redacted.value(appToken.value).startsWith("xapp-")) {
        return yield* missing("SLACK_APP_TOKEN", "an app-level token starting with xapp- (Basic Information → App-Level Tokens)")
      }
    }
    return {
      token: token.value,
      appToken: Option.getOrNull(appToken),
      signingSecret: Option.getOrNull(secret),
      apiUrl: Option.getOrUndefined(apiUrl)
    }
  })

export { Redacted }
