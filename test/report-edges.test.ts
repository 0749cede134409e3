/**
 * `frugal report` at its edges, through the real process: `--out` onto a symbolic link or a private file,
 * invalid Cost Explorer data (impossible dates, reversed periods, negative amounts), credits and refunds as
 * their own records, and `--since` with an impossible date.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs"
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

/** A copy of the example week with `edit` applied to one of its files. */
const editedCe = (name: string, file: string, edit: (text: string) => string): string => {
  const copy = join(dir, name)
  cpSync(ceDir, copy, { recursive: true })
  const path = join(copy, file)
  writeFileSync(path, edit(readFileSync(path, "utf8")))
  return copy
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

describe.concurrent("invalid Cost Explorer data is refused with exit 2 naming the field", () => {
  const cases: ReadonlyArray<{ readonly title: string; readonly file: string; readonly edit: (text: string) => string; readonly mentions: ReadonlyArray<string> }> = [
    {
      title: "a month that does not exist (2026-13-45)",
      file: "cost-by-instance-type.json",
      edit: (text) => text.replace('"Start": "2026-11-02"', '"Start": "2026-13-45"'),
      mentions: ['ResultsByTime[0].TimePeriod.Start: expected a date that exists, written YYYY-MM-DD, got "2026-13-45"']
    },
    {
      title: "a day that does not exist (2026-02-30)",
      file: "cost-by-zone.json",
      edit: (text) => text.replace('"End": "2026-11-03"', '"End": "2026-02-30"'),
      mentions: ['ResultsByTime[0].TimePeriod.End: expected a date that exists, written YYYY-MM-DD, got "2026-02-30"']
    },
    {
      title: "a period that ends before it starts",
      file: "reservation-utilization.json",
      edit: (text) => text.replace(/"Start": "2026-11-02"/, '"Start": "2026-11-09"'),
      mentions: ["UtilizationsByTime[0].TimePeriod: expected a period whose Start is before its End"]
    },
    {
      title: "negative spend (-1e6)",
      file: "cost-by-instance-type.json",
      edit: (text) => text.replace('"Amount": "272.256"', '"Amount": "-1e6"'),
      mentions: [".Metrics.AmortizedCost.Amount: expected spend of 0 or more (credits and refunds belong in a response grouped by RECORD_TYPE), got -1000000"]
    },
    {
      title: "an absurd amount (1e308)",
      file: "data-transfer.json",
      edit: (text) => text.replace(/"Amount": "[0-9.]+"/, '"Amount": "1e308"'),
      mentions: [".Amount: expected an amount within ±1000000000000"]
    }
  ]
  for (const one of cases) {
    it(one.title, async () => {
      const ce = editedCe(one.title.replace(/[^a-z0-9]+/gi, "-"), one.file, one.edit)
      const run = await report("--ce-file", ce, "--format", "json")
      expect(run.stderr).not.toMatch(STACK_FRAME)
      expect(run.stdout).toBe("")
      expect(run.stderr).toContain(join(ce, one.file))
      for (const mention of one.mentions) expect(run.stderr).toContain(mention)
      expect(run.code).toBe(2)
    })
  }

  it("--since with a day that does not exist", async () => {
    const run = await report("--ce-file", ceDir, "--since", "2026-02-30")
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("--since: expected a number of days or weeks (30d, 4w; at most 366 days) or a past date (2026-11-01), got 2026-02-30")
  })
})

describe("credits and refunds", () => {
  it("are reported apart from spend, so findings stay within what usage cost however large the credit", async () => {
    const ce = editedCe("credits", "data-transfer.json", (text) => text)
    writeFileSync(join(ce, "credits.json"), JSON.stringify({
      GroupDefinitions: [{ Type: "DIMENSION", Key: "RECORD_TYPE" }],
      ResultsByTime: [{
        TimePeriod: { Start: "2026-11-02", End: "2026-11-09" },
        Groups: [
          { Keys: ["Credit"], Metrics: { AmortizedCost: { Amount: "-1000000", Unit: "USD" } } },
          { Keys: ["Refund"], Metrics: { AmortizedCost: { Amount: "-25.5", Unit: "USD" } } }
        ]
      }]
    }))
    const [json, md] = await Promise.all([report("--ce-file", ce, "--format", "json"), report("--ce-file", ce)])
    expect(json.code).toBe(0)
    const output: unknown = JSON.parse(json.stdout)
    expect(output).toMatchObject({ totalCostUsd: 4614.56, creditsAndRefundsUsd: 1000025.5, partial: false, unavailable: [] })
    const findings = isRecord(output) && Array.isArray(output["findings"]) ? output["findings"] : []
    const findingsUsd = findings.reduce((sum: number, finding: unknown) => sum + Number(isRecord(finding) ? finding["costUsd"] : 0), 0)
    expect(findingsUsd).toBeGreaterThan(0)
    expect(findingsUsd).toBeLessThanOrEqual(4614.56)
    // The JSON keeps the cents; the text rounds amounts of $100,000 and more to whole dollars, as every report amount.
    expect(md.stdout).toContain("Credits and refunds: $1,000,026 given back (not subtracted from spend; findings are measured against what usage cost).")
  })
})
