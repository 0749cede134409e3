/**
 * Who a request is: its `Authorization: Bearer <token>` against the configured tokens. Both sides are hashed
 * (SHA-256) and compared with `crypto.timingSafeEqual`, against every token with no early exit, so neither the
 * length of a guess nor how much of it matches, nor which token it matched, shows in the time taken. The token is
 * never logged and never echoed: a refusal says only that the token is missing or not accepted.
 *
 * Rules: every route but `/healthz` needs a token (401 without a valid one); a team token reaches its own team's
 * jobs and budget (403 for another team's); the admins' token reaches every team's.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Redacted } from "effect"
import type { Principal, ServerConfig } from "./ServerConfig.ts"

export interface Authenticator {
  /** The principal of an `Authorization` header value; null when it is missing or not accepted. */
  readonly authenticate: (header: string | undefined) => Principal | null
}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

export const makeAuthenticator = (tokens: ServerConfig["tokens"]): Authenticator => {
  const known = tokens.map((entry) => ({ hash: digest(Redacted.value(entry.token)), principal: entry.principal }))
  return {
    authenticate: (header) => {
      const match = header === undefined ? null : BEARER.exec(header)
      const presented = digest(match?.[1] ?? "")
      let found: Principal | null = null
      for (const entry of known) {
        // Every entry is compared, whichever matches.
        if (timingSafeEqual(presented, entry.hash) && match !== null) found = entry.principal
      }
      return found
    }
  }
}

/** Whether `principal` may see and act on `team`'s jobs and budget. */
export const mayAccessTeam = (principal: Principal, team: string): boolean => principal.kind === "admin" || principal.team === team
