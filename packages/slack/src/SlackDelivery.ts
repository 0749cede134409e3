/** `--to slack:#channel`: the weekly digest as a Block Kit message, posted with `chat.postMessage`. */
import { RemoteServiceFailure } from "@frugal/core"
import { type Destination, renderBlockKit } from "@frugal/waste"
import type { WebClient } from "@slack/web-api"
import { Effect } from "effect"

export const slackDestination = (client: WebClient, channel: string): Destination => ({
  name: `slack:${channel}`,
  deliver: (report) => {
    const message = renderBlockKit(report)
    return Effect.tryPromise({
      try: () => client.chat.postMessage({ channel, text: message.text, blocks: [...message.blocks] }),
      catch: (error) =>
        new RemoteServiceFailure({
          service: "Slack",
          operation: "chat.postMessage",
          detail: error instanceof Error ? error.message.replace(/^An API error occurred: /, "") : String(error)
        })
    }).pipe(Effect.asVoid)
  }
})
