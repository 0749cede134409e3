import { describe, expect, it } from "vitest"
import { defaultLedgerPath } from "@frugal/runner"
import { ledgerFile } from "@frugal/sdk"

describe("ledgerFile", () => {
  it("finds the same ledger as the runner for every way FRUGAL_HOME can be set", () => {
    const environments: ReadonlyArray<Record<string, string>> = [
      {},
      { FRUGAL_HOME: "/srv/frugal" },
      { FRUGAL_HOME: "", XDG_DATA_HOME: "/data" },
      { XDG_DATA_HOME: "/data" },
      { FRUGAL_HOME: "relative/home", XDG_DATA_HOME: "/ignored" }
    ]
    for (const env of environments) expect(ledgerFile(env)).toBe(defaultLedgerPath(env))
  })
})
