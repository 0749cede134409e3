/**
 * The dashboard in a real browser (Debian's Chromium, headless, through playwright-core) against the real `frugal
 * server` process on loopback, driven from the keyboard: log in with team a's token, watch the queue update without a
 * reload as submitted jobs run and end, open a job and see its attempts, cancel a running job from its page. Markup
 * in job names, teams and reasons shows as text, no token reaches a page, dates are written in the browser's zone.
 * With FRUGAL_DASHBOARD_SCREENSHOTS=1 the queue and a job's page are saved to docs/images/.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot } from "./support/frugalCli.ts"
import { eventually, jobState, type RunningServer, startServer, submit, tinyWorkload, writeConfig } from "./support/frugalServer.ts"
import { HISTORY_JOB, writeLedgerHistory, XSS_NAME, XSS_REASON, XSS_TEAM } from "./support/ledgerHistory.ts"

const CHROMIUM = process.env["FRUGAL_CHROMIUM"] ?? "/usr/bin/chromium"
const found = existsSync(CHROMIUM)
const TOKEN_A = "browser-team-a-0123456789"
const TOKEN_B = "browser-team-b-0123456789"
const ADMIN = "browser-admins-0123456789"
const screenshots = process.env["FRUGAL_DASHBOARD_SCREENSHOTS"] === "1" ? join(repoRoot, "docs", "images") : mkdtempSync(join(tmpdir(), "frugal-shots-"))

const home = mkdtempSync(join(tmpdir(), "frugal-dashboard-"))
let server: RunningServer | undefined
let browser: Browser | undefined

beforeAll(async () => {
  if (!found) return
  const config = writeConfig(home, "scheduler.yaml", `
teams:
  - { name: a, tokenEnv: FRUGAL_TOKEN_A, monthlyBudgetUsd: 400, maxGpus: 16 }
  - { name: b, tokenEnv: FRUGAL_TOKEN_B, monthlyBudgetUsd: 50, maxGpus: 8 }
maxGpus: 24
admins: { tokenEnv: FRUGAL_ADMIN_TOKEN }
passEverySeconds: 0.5
`)
  const infra = writeConfig(home, "infra.yaml", "local: { hourlyPriceUsd: 3 }\n")
  server = await startServer(["--config", config, "--infra", infra], { FRUGAL_HOME: home, FRUGAL_TOKEN_A: TOKEN_A, FRUGAL_TOKEN_B: TOKEN_B, FRUGAL_ADMIN_TOKEN: ADMIN })
  await writeLedgerHistory(join(home, "ledger.sqlite"), "a")
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await server?.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
})

/** A page in Tokyo's time zone, failing the test on any dialog but a cancel's confirmation. */
const openPage = async (): Promise<{ readonly page: Page; readonly dialogs: Array<string> }> => {
  if (browser === undefined) throw new Error("no browser")
  const context = await browser.newContext({ locale: "en-US", timezoneId: "Asia/Tokyo", colorScheme: "light", viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const dialogs: Array<string> = []
  page.on("dialog", (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    void (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss())
  })
  return { page, dialogs }
}

const logIn = async (page: Page, url: string, token: string) => {
  await page.goto(url)
  expect(new URL(page.url()).pathname).toBe("/login")
  await page.keyboard.press("Tab") // the skip link is first; the token field has focus already
  await page.locator("#token").focus()
  await page.keyboard.type(token)
  await page.keyboard.press("Enter")
  await page.waitForURL(`${url}/`)
}

const rowOf = (page: Page, region: string, name: string) => page.locator(`[data-live-region="${region}"] tr`, { hasText: name })

describe(`the dashboard in Chromium${found ? "" : ` (skipped: no Chromium at ${CHROMIUM}; scripts/install-system-deps.sh installs it)`}`, () => {
  it.skipIf(!found)("logs in, follows the queue live, shows a job's attempts, cancels from the page, and renders markup as text", async () => {
    if (server === undefined) throw new Error("no server")
    const url = server.url
    const { page, dialogs } = await openPage()
    await logIn(page, url, TOKEN_A)
    await expect.poll(() => page.locator("h1").textContent()).toBe("Queue")
    // The seeded history: team a's completed EC2 job, with its zones.
    expect(await rowOf(page, "ended", "llama-7b-finetune").locator(".state").textContent()).toBe("completed")
    expect(await page.locator('[data-live-region="zones"] th[scope="row"]').allTextContents()).toEqual(["use1-az4", "use1-az6"])
    await page.evaluate(() => Object.assign(window, { frugalTestMarker: "not reloaded" }))

    // Jobs move while the page stays open: it learns of them by polling, not by reloading.
    const quick = await submit(url, TOKEN_A, tinyWorkload("quick-a"))
    const other = await submit(url, TOKEN_B, tinyWorkload("other-team-b"))
    await rowOf(page, "queue", "quick-a").waitFor({ timeout: 20_000 })
    await rowOf(page, "ended", "quick-a").locator(".state", { hasText: "completed" }).waitFor({ timeout: 60_000 })
    expect(await page.evaluate(() => (window as unknown as { frugalTestMarker?: string }).frugalTestMarker)).toBe("not reloaded")
    expect(await page.locator("body").textContent()).not.toContain("other-team-b")
    expect((await jobState(url, TOKEN_A, quick)).state).toBe("completed")

    // Dates in the reader's zone, written by the browser.
    const stamp = page.locator('[data-live-region="ended"] time').first()
    const iso = (await stamp.getAttribute("datetime")) ?? ""
    const tokyo = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium", timeZone: "Asia/Tokyo" }).format(new Date(iso))
    expect(await stamp.textContent()).toBe(tokyo)

    // A long job runs; the queue shows it running; then its page, opened from the keyboard.
    const long = await submit(url, TOKEN_A, tinyWorkload("long-a", { steps: 100_000 }))
    await rowOf(page, "queue", "long-a").locator(".state", { hasText: "running" }).waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(screenshots, "dashboard-queue.png"), fullPage: true })
    await page.getByRole("link", { name: "long-a" }).focus()
    await page.keyboard.press("Enter")
    await page.waitForURL(`${url}/jobs/${long}`)
    const attempts = page.locator('[data-live-region="attempts"] tbody tr')
    await expect.poll(() => attempts.count(), { timeout: 15_000 }).toBe(1)
    await expect.poll(() => attempts.first().locator("td").nth(5).textContent(), { timeout: 15_000 }).toBe("running")
    expect(await attempts.first().locator("td").nth(2).textContent()).toBe("this machine")

    // Cancel it from its page: a form with the session's CSRF token, confirmed in a dialog.
    await page.locator("#cancel-job").focus()
    await page.keyboard.press("Enter")
    await page.waitForURL(`${url}/jobs/${long}`)
    await page.locator('[data-live-region="job"] .state', { hasText: "cancelled" }).waitFor({ timeout: 30_000 })
    await expect.poll(() => attempts.first().locator("td").nth(5).textContent(), { timeout: 15_000 }).toBe("cancelled")
    expect((await jobState(url, TOKEN_A, long)).state).toBe("cancelled")
    expect(dialogs).toEqual([`confirm: Cancel long-a? A running job writes its checkpoint and stops.`])

    // The EC2 job's page: three attempts on the timeline and in the table, its checkpoints and its plan.
    await page.goto(`${url}/jobs/${HISTORY_JOB}`)
    expect(await page.locator('[data-live-region="attempts"] tbody tr td:nth-child(6)').allTextContents()).toEqual(["interrupted", "provision-failed", "completed"])
    expect(await page.locator('[data-live-region="attempts"] tbody tr td:nth-child(7)').allTextContents()).toEqual([
      "Server.SpotInstanceTermination",
      "InsufficientInstanceCapacity",
      ""
    ])
    expect(await page.locator('[data-live-region="attempts"] figure svg').count()).toBe(2)
    expect(await page.locator('[data-live-region="checkpoints"] tbody tr').count()).toBe(5)
    await page.screenshot({ path: join(screenshots, "dashboard-job.png"), fullPage: true })

    // Markup in a job's name and reason is text: no element was made of it, no script ran.
    await page.goto(url)
    await rowOf(page, "ended", XSS_NAME).waitFor()
    expect(await rowOf(page, "ended", XSS_NAME).locator("td").nth(3).textContent()).toBe(`refused: ${XSS_REASON}`)
    const injected = () => page.evaluate(() => ({ images: document.querySelectorAll('img[src="x"]').length, svgs: document.querySelectorAll("svg[onload]").length, ran: "__xss" in window }))
    expect(await injected()).toEqual({ images: 0, svgs: 0, ran: false })
    const html = await page.content()
    for (const token of [TOKEN_A, TOKEN_B, ADMIN]) expect(html).not.toContain(token)

    // Logged out, a page sends the browser back to the login form; the admins see every team, markup in a team too.
    await page.getByRole("button", { name: "Log out" }).click()
    await page.waitForURL(`${url}/login`)
    await page.goto(`${url}/jobs/${long}`)
    expect(new URL(page.url()).pathname).toBe("/login")
    await logIn(page, url, ADMIN)
    await rowOf(page, "ended", XSS_TEAM).waitFor()
    expect(await rowOf(page, "ended", XSS_TEAM).locator("td").nth(1).textContent()).toBe(XSS_TEAM)
    expect(await page.locator("body").textContent()).toContain("other-team-b")
    expect(await injected()).toEqual({ images: 0, svgs: 0, ran: false })
    expect(dialogs).toHaveLength(1)
    await eventually("team b's job to end", 60, async () => ((await jobState(url, TOKEN_B, other)).state === "completed" ? true : undefined))
    for (const token of [TOKEN_A, TOKEN_B, ADMIN]) expect(server.log()).not.toContain(token)
  }, 85_000)
})
