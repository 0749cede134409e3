/**
 * The frame of every dashboard page (header, navigation, the logged-in principal and the log-out form, the main
 * landmark) and the live regions: parts of a page that `assets/dashboard.js` replaces in place when the server says
 * they changed. Each region carries a hash of its content, so an update sends only the regions that differ.
 */
import { createHash } from "node:crypto"
import { html, renderToString, type VNode } from "./Html.ts"
import type { Session } from "./Session.ts"
import { ASSET_PATHS } from "./Assets.ts"

export interface RenderedRegion {
  readonly name: string
  /** Its accessible name. */
  readonly label: string
  readonly html: string
  readonly hash: string
}

export const renderRegion = (name: string, label: string, node: VNode): RenderedRegion => {
  const inner = renderToString(node)
  return { name, label, html: inner, hash: createHash("sha256").update(inner).digest("base64url").slice(0, 12) }
}

/** A region as the page first shows it (its content is renderer output: already escaped). */
export const regionElement = (region: RenderedRegion): VNode =>
  html`<section class="region" aria-label=${region.label} data-live-region=${region.name} data-hash=${region.hash} dangerouslySetInnerHTML=${{ __html: region.html }} />`

export interface PageOptions {
  readonly title: string
  readonly session: Session | null
  /** The live endpoint of this page and the version the page shows; absent on pages that do not update. */
  readonly live?: { readonly url: string; readonly version: string; readonly pollMillis: number }
}

const who = (session: Session): string => (session.principal.kind === "admin" ? "admins (every team)" : `team ${session.principal.team}`)

export const page = (options: PageOptions, body: VNode): string => {
  const session = options.session
  const live = options.live
  const document = html`
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>${options.title} · Frugal</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href=${ASSET_PATHS.css} />
        <script src=${ASSET_PATHS.js} defer></script>
      </head>
      <body data-live-url=${live?.url} data-version=${live?.version} data-poll-ms=${live?.pollMillis}>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="top">
          <a class="brand" href="/">Frugal</a>
          ${session === null ? null : html`
            <nav aria-label="Pages"><a href="/">Queue</a></nav>
            <span class="who">Signed in as ${who(session)}</span>
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="csrf" value=${session.csrf} />
              <button type="submit">Log out</button>
            </form>
          `}
          ${live === undefined ? null : html`<span class="live" role="status" data-live-status>Live: updates every ${live.pollMillis / 1000} s</span>`}
        </header>
        <main id="main" tabindex="-1">${body}</main>
      </body>
    </html>`
  return `<!doctype html>\n${renderToString(document)}`
}
