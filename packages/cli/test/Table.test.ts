import { describe, expect, it } from "@effect/vitest"
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import { gib, hours, quantity } from "../src/Format.ts"
import { renderTable } from "../src/Table.ts"

describe("renderTable", () => {
  it("aligns text left and numbers right, two spaces apart, without trailing spaces", () => {
    const lines = renderTable(
      [{ header: "INSTANCE" }, { header: "PRICE", align: "right" }, { header: "AZ" }],
      [["g5.xlarge", "$1.01/h", "use1-az4"], ["p5.48xlarge", "$55.04/h", ""]]
    )
    expect(lines).toEqual([
      "INSTANCE        PRICE  AZ",
      "───────────  ────────  ────────",
      "g5.xlarge     $1.01/h  use1-az4",
      "p5.48xlarge  $55.04/h"
    ])
  })

  it("counts a multi-byte character such as × as one column", () => {
    const lines = renderTable([{ header: "GPU" }, { header: "N", align: "right" }], [["H100 ×8", "1"], ["T4 ×1", "10"]])
    expect(lines[2]).toBe("H100 ×8   1")
    expect(lines[3]).toBe("T4 ×1    10")
  })
})

describe("Format", () => {
  it("writes money in tables with the precision a reader needs at each size", () => {
    const usd = (value: number) => formatUsd(value, "glance")
    expect(usd(0)).toBe("$0")
    expect(usd(0.5261)).toBe("$0.526")
    expect(usd(12.241)).toBe("$12.24")
    expect(usd(12345.6)).toBe("$12,346")
    expect(formatUsdPerHour(55.04, "glance")).toBe("$55.04/h")
  })

  it("writes hours, memory and counts the way people write them", () => {
    expect(hours(41.23)).toBe("41.2 h")
    expect(hours(1460)).toBe("1,460 h")
    expect(gib(80)).toBe("80 GiB")
    expect(gib(22.46)).toBe("22.5 GiB")
    expect(gib(1128.4)).toBe("1,128 GiB")
    expect(quantity(7e9)).toBe("7B")
    expect(quantity(1.5e12)).toBe("1.5T")
    expect(quantity(175e9)).toBe("175B")
  })
})
