import { assert, describe, it } from "@effect/vitest"
import { type CountOutcome, countSearch, nextCount } from "../src/CountSearch.ts"

const after = (limit: number, outcomes: ReadonlyArray<readonly [number, CountOutcome]>) => {
  const search = countSearch(limit, [])
  for (const [count, outcome] of outcomes) search.outcomes.set(count, outcome)
  return nextCount(search)
}

describe("the count search towards a deadline", () => {
  it("waits while a count it proposed is not priced yet", () => {
    assert.isNull(after(64, [[2, "missed"], [4, "pending"]]))
    assert.isNull(nextCount(countSearch(64, [1, 2])))
  })

  it("doubles past the largest count while every count missed, never past the limit", () => {
    assert.strictEqual(after(64, [[1, "missed"], [2, "missed"]]), 4)
    assert.strictEqual(after(6, [[2, "missed"], [4, "missed"]]), 6)
    assert.isNull(after(6, [[4, "missed"], [6, "missed"]]))
  })

  it("halves the gap between the largest miss and the smallest count that met, until they are neighbours", () => {
    assert.strictEqual(after(64, [[2, "missed"], [4, "met"]]), 3)
    assert.strictEqual(after(64, [[4, "missed"], [8, "met"]]), 6)
    assert.strictEqual(after(64, [[4, "missed"], [6, "met"], [8, "met"]]), 5)
    assert.strictEqual(after(64, [[4, "missed"], [6, "missed"], [8, "met"]]), 7)
    assert.isNull(after(64, [[2, "missed"], [3, "met"], [4, "met"]]))
    assert.isNull(after(64, [[2, "missed"], [3, "missed"], [4, "met"]]))
  })

  it("stops when the first count meets the deadline, or when a count could not be priced in full", () => {
    assert.isNull(after(64, [[1, "met"], [2, "met"]]))
    assert.isNull(after(64, [[1, "missed"], [2, "unknown"]]))
    assert.isNull(after(64, [[2, "unknown"], [4, "met"]]))
  })
})
