/** Flags the queue's client commands share. */
import * as Flag from "effect/cli/Flag"

export const serverFlag = Flag.String("server").pipe(
  Flag.withDescription("URL of frugal server (default FRUGAL_SERVER); the token is FRUGAL_TOKEN"),
  Flag.withMetavar("URL"),
  Flag.optional
)

export const json = Flag.Boolean("json").pipe(Flag.withDescription("Print the server's answer as JSON"), Flag.withDefault(false))
