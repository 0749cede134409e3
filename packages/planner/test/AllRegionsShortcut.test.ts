/**
 * With every region allowed and no data to move, the planner scans only the offers that can win (CatalogIndex's
 * `bestOffers`: the cheapest on-demand region, the cheapest spot zone of each kind, the cheapest region per term).
 * Naming every region turns the shortcut off. Both must recommend the same placement.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Workload } from "@frugal/core"
import { EmbeddedCatalog } from "@frugal/pricing"
import { evaluatePlan, indexCatalog } from "../src/index.ts"
import { benchFleet } from "./bench/PlanBench.ts"

const index = indexCatalog(EmbeddedCatalog.catalog())
const [firstRegion, ...otherRegions] = index.regions
if (firstRegion === undefined) throw new Error("the embedded catalog has no regions")
const everyRegionName: readonly [string, ...Array<string>] = [firstRegion, ...otherRegions]

const withoutData = (workload: Workload): Workload => {
  const { data: _data, ...rest } = workload
  return rest as Workload
}

describe("the all-regions shortcut", () => {
  it("recommends what a scan of every region recommends, for 400 varied workloads", () => {
    // Every third bench workload leaves the regions open; with data, every region is scanned anyway.
    const open = benchFleet(1200).filter((w) => w.constraints.regions === undefined).map(withoutData)
    assert.strictEqual(open.length, 400)
    let compared = 0
    for (const workload of open) {
      const shortcut = evaluatePlan(workload, index)
      const everyRegion = evaluatePlan({ ...workload, constraints: { ...workload.constraints, regions: everyRegionName } }, index)
      assert.strictEqual(shortcut.status, everyRegion.status, workload.name)
      const [a, b] = [shortcut.options[0], everyRegion.options[0]]
      if (a === undefined || b === undefined) continue
      compared++
      assert.deepStrictEqual(
        [a.instanceType, a.instanceCount, a.availabilityZone ?? a.region, a.purchaseOption, a.expectedCostUsd],
        [b.instanceType, b.instanceCount, b.availabilityZone ?? b.region, b.purchaseOption, b.expectedCostUsd],
        workload.name
      )
    }
    assert.isAbove(compared, 350)
  })
})
