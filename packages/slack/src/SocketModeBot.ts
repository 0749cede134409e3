/**
 * The same bot over Socket Mode (https://api.slack.com/apis/socket-mode), for workspaces that cannot
 * expose an HTTPS endpoint: the app-level token (`xapp-…`, scope `connections:write`) opens a WebSocket
 * through `apps.connections.open` on the Web API base URL; Slack sends each slash command and button
 * press as an envelope, and Bolt acknowledges it with `{ envelope_id }` before the answer is computed.
 * Requests need no signature here: the connection itself is authenticated by the app token.
 */
import { App, type Logger, LogLevel, SocketModeReceiver } from "@slack/bolt"
import { answerSlashCommands, type BotAnswerOptions } from "./FrugalBot.ts"

export interface SocketModeBotOptions extends BotAnswerOptions {
  /** The app-level token (`xapp-…`). */
  readonly appToken: string
}

export interface SocketModeBot {
  readonly app: App
  readonly receiver: SocketModeReceiver
}

/**
 * Bolt's and the Socket Mode client's warnings and errors, on the bot's log, with both tokens masked:
 * the app token travels in an Authorization header and an error could echo it.
 */
const redactingLogger = (log: (line: string) => void, secrets: ReadonlyArray<string>): Logger => {
  let level = LogLevel.WARN
  let name = "slack"
  const mask = (text: string) => secrets.reduce((masked, secret) => secret === "" ? masked : masked.split(secret).join("<redacted>"), text)
  const ranks: Record<LogLevel, number> = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 }
  const at = (messageLevel: LogLevel) => (...message: Array<unknown>) => {
    if (ranks[messageLevel] >= ranks[level]) log(mask(`${name} ${messageLevel}: ${message.map(String).join(" ")}`))
  }
  return {
    debug: at(LogLevel.DEBUG),
    info: at(LogLevel.INFO),
    warn: at(LogLevel.WARN),
    error: at(LogLevel.ERROR),
    setLevel: (next) => void (level = next),
    getLevel: () => level,
    setName: (next) => void (name = next)
  }
}

export const makeSocketModeBot = (options: SocketModeBotOptions): SocketModeBot => {
  const logger = redactingLogger(options.log, [options.appToken, options.token])
  const clientOptions = options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger,
    // `apps.connections.open` is a Web API call: it goes wherever the bot's own calls go.
    installerOptions: { clientOptions }
  })
  const app = new App({ token: options.token, receiver, tokenVerificationEnabled: false, logger, clientOptions })
  answerSlashCommands(app, options)
  return { app, receiver }
}
