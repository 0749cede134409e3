/**
 * Who is looking at the dashboard, and whether a form post is theirs.
 *
 * - The login form takes a team's (or the admins') token, the same tokens as the API, and keeps it in a cookie that
 *   page scripts cannot read (`HttpOnly`), that no other site's page or form can send (`SameSite=Strict`), and that
 *   only travels over TLS when the server is reached over TLS (`Secure`, when a proxy says `X-Forwarded-Proto:
 *   https`). The server keeps no session: every request is authenticated as an API call is (constant time), so any
 *   replica serves any page and a token removed from the config logs its pages out.
 * - Writes (cancel, log out) are forms that carry a CSRF token, an HMAC of the session's token that only a page
 *   served to that session holds, and are refused when the browser says they come from another origin (`Origin`,
 *   `Sec-Fetch-Site`).
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import type { Authenticator } from "../Auth.ts"
import type { Principal } from "../ServerConfig.ts"

export const SESSION_COOKIE = "frugal_session"
/** Twelve hours: a working day, after which the login form asks again. */
export const SESSION_MAX_AGE_SECONDS = 12 * 3600

type Headers = Readonly<Record<string, string | undefined>>

export interface Session {
  readonly principal: Principal
  /** The value a form must echo in its `csrf` field. */
  readonly csrf: string
}

const cookieValue = (headers: Headers, name: string): string | undefined => {
  for (const part of (headers["cookie"] ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=")
    if (key === name) return value.join("=")
  }
  return undefined
}

/** Cookie values are base64url: a token may hold characters a cookie cannot. */
const encodeToken = (token: string): string => Buffer.from(token, "utf8").toString("base64url")
const decodeToken = (value: string): string => Buffer.from(value, "base64url").toString("utf8")

export const csrfFor = (token: string): string => createHmac("sha256", token).update("frugal dashboard form v1").digest("base64url")

/** The session of a request: its cookie's token, authenticated like a bearer token; null when absent or refused. */
export const sessionOf = (authenticator: Authenticator, headers: Headers): Session | null => {
  const value = cookieValue(headers, SESSION_COOKIE)
  if (value === undefined || value === "") return null
  const token = decodeToken(value)
  const principal = authenticator.authenticate(`Bearer ${token}`)
  return principal === null ? null : { principal, csrf: csrfFor(token) }
}

/** The token of a login form, authenticated; null when it is not accepted. */
export const login = (authenticator: Authenticator, token: string): Principal | null =>
  /^\S+$/.test(token) ? authenticator.authenticate(`Bearer ${token}`) : null

const secure = (headers: Headers): boolean => (headers["x-forwarded-proto"] ?? "").split(",")[0]?.trim().toLowerCase() === "https"

export const sessionCookie = (token: string, headers: Headers): string =>
  `${SESSION_COOKIE}=${encodeToken(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_SECONDS}${secure(headers) ? "; Secure" : ""}`

export const clearedCookie = (headers: Headers): string =>
  `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure(headers) ? "; Secure" : ""}`

/**
 * Whether a form post may come from this page's own origin: a browser names the origin of every cross-origin (and
 * most same-origin) POST; a post that names another one, or that a browser marks `cross-site`, is refused.
 */
export const sameOrigin = (headers: Headers): boolean => {
  const site = headers["sec-fetch-site"]
  if (site !== undefined && site !== "same-origin" && site !== "none") return false
  const origin = headers["origin"]
  if (origin === undefined) return true
  const host = headers["host"]
  if (host === undefined) return false
  const scheme = secure(headers) ? "https" : "http"
  return origin === `${scheme}://${host}`
}

/** Whether a form's `csrf` field is this session's (constant time). */
export const validCsrf = (session: Session, presented: string | undefined): boolean => {
  const expected = Buffer.from(session.csrf, "utf8")
  const given = Buffer.from(presented ?? "", "utf8")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Where to go after logging in: a path on this server only (never `//host` or a URL). */
export const safeNext = (next: string | undefined): string =>
  next !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) && !next.startsWith("/login") ? next : "/"
