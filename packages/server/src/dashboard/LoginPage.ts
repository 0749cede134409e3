/**
 * The login form: one password field for a team's token (or the admins'), the same token as the API's bearer token.
 * A refused token is never written back into the page.
 */
import { html, type VNode } from "./Html.ts"
import { page } from "./Layout.ts"

export const loginPage = (options: { readonly next: string; readonly error?: string }): string =>
  page({ title: "Log in", session: null }, html`
    <h1>Log in to Frugal</h1>
    <p>Use your team's token (the one <code>frugal submit</code> sends as <code>FRUGAL_TOKEN</code>), or the admins' token to see every team.</p>
    ${options.error === undefined ? null : html`<p class="error" role="alert" id="login-error">${options.error}</p>`}
    <form class="login" method="post" action="/login">
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus
        aria-describedby=${options.error === undefined ? undefined : "login-error"} />
      <input type="hidden" name="next" value=${options.next} />
      <button type="submit">Log in</button>
    </form>`)

/** A page that only says something (a refusal, a missing job), with a way back. */
export const messagePage = (title: string, message: string, session: Parameters<typeof page>[0]["session"]): string =>
  page({ title, session }, html`<h1>${title}</h1><p>${message}</p><p><a href="/">Back to the queue</a></p>` as VNode)
