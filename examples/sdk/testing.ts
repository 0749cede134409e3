/**
 * Frugal in your tests: prices from a layer you write (any `PriceCatalog` layer fits `catalog`), a ledger of the
 * test's own (`env.FRUGAL_HOME`), and core's default MFU instead of what a ledger measured (`calibration: false`).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Frugal, isFleetPlan, PriceCatalog } from "@frugal/sdk"

const catalog = Layer.succeed(PriceCatalog)(PriceCatalog.of({
  catalog: () =>
    Effect.succeed({
      source: { kind: "file", asOf: "2026-01-01", description: "one A10G at $1/h", notes: [] },
      instanceTypes: [{ name: "g5.xlarge", accelerator: "A10G", acceleratorCount: 1, acceleratorMemoryGiB: 22.4, vcpus: 4, memoryGiB: 16, arch: "x86_64" }],
      offers: [{
        instanceType: "g5.xlarge",
        region: "us-east-1",
        availabilityZone: null,
        purchaseOption: "on-demand",
        hourlyPriceUsd: 1,
        term: null,
        priceIsEstimate: false,
        interruptionBucket: null,
        placementScore: null
      }]
    })
}))

const home = mkdtempSync(join(tmpdir(), "frugal-test-"))
await using frugal = Frugal.make({ catalog, env: { ...process.env, FRUGAL_HOME: home }, calibration: false })
try {
  const plan = await frugal.plan({ name: "small", kind: "batch", batch: { gpuHours: 3, referenceGpu: "A10G" } })
  if (!isFleetPlan(plan)) console.log(`${plan.options[0]?.instanceType} ${plan.options[0]?.purchaseOption}: $${plan.options[0]?.expectedCostUsd} (${plan.catalog.description})`)
  console.log(`jobs in the test's ledger: ${(await frugal.status()).jobs.length}`)
} finally {
  rmSync(home, { recursive: true, force: true })
}
