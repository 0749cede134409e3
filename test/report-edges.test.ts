/**
 * `frugal report` at its edges, through the real process: `--out` onto a symbolic link or a private file,
 * invalid Cost Explorer data (impossible dates, reversed periods, negative amounts), credits and refunds as
 * their own records, and `--since` with an impossible date.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-report-edges-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const env = { FRUGAL_HOME: join(dir, "home") }
const ceDir = example("waste/cost-explorer")
const report = (...args: Array<string>) => runFrugal(["report", ...args], { env })

describe.concurrent("frugal report --out", () => {
  it("writes through a symbolic link to its target, leaving the link a link", async () => {
    const out = join(dir, "link-case")
    mkdirSync(join(out, "archive"), { recursive: true })
    const target = join(out, "archive", "week.md")
    writeFileSync(target, "last week\n")
    const link = join(out, "latest.md")
    symlinkSync("archive/week.md", link)
    const run = await report("--ce-file", ceDir, "--out", link)
    expect(run.stderr).not.toMatch(STACK_FRAME)
    expect(run.code).toBe(0)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe("archive/week.md")
    expect(readFileSync(target, "utf8")).toMatch(/^# GPU spend and waste, 2026-11-02 to 2026-11-09/)
    expect(readdirSync(out).sort()).toEqual(["archive", "latest.md"])
    expect(readdirSync(join(out, "archive"))).toEqual(["week.md"])
  })

  it("keeps an existing report's mode: 600 stays 600", async () => {
    const out = join(dir, "private.json")
    writeFileSync(out, "{}\n", { mode: 0o600 })
    const run = await report("--ce-file", ceDir, "--format", "json", "--out", out)
    expect(run.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ period: { start: "2026-11-02", end: "2026-11-09" } })
  })

  it("into a directory that does not exist is a local failure: exit 1 naming the path, not a remote-service 4", async () => {
    const out = join(dir, "no-such-directory", "report.md")
    const run = await report("--ce-file", ceDir, "--out", out)
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`error: cannot write ${out}: no such file or directory (ENOENT)`)
    expect(run.stderr).not.toContain("bug")
    expect(run.stderr).not.toMatch(STACK_FRAME)
  })
})
