/**
 * `frugal prices refresh` for 10 regions against the loopback AWS with 50 ms of injected latency per call:
 * regions one after another (concurrency 1, the baseline) versus the default concurrent refresh.
 * Same calls in both: zones, instance types, GetProducts pages, the savings-plan price list and file,
 * spot price history pages (placement scores are opt-in and left out, as in the default refresh).
 *
 * Run by `bench/refresh.bench.ts` (`pnpm exec node bench/refresh.bench.ts`).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { CatalogCache } from "../../src/CatalogCache.ts"
import { AwsClients } from "../../src/aws/AwsClients.ts"
import { DEFAULT_REFRESH_CONCURRENCY, refreshMarketData } from "../../src/aws/MarketRefresh.ts"
import { standardRegion, startFakeAws, useFakeAwsEnvironment } from "../support/FakeAws.ts"

const REGIONS = [
  "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
  "ap-northeast-1", "ap-southeast-1", "ap-south-1", "ca-central-1", "sa-east-1"
]
const LATENCY_MS = 50

export const runRefreshBench = async (): Promise<void> => {
  const fake = await startFakeAws(new Map(REGIONS.map((region) => [region, standardRegion(region)])), {
    latencyMs: LATENCY_MS,
    productPageSize: 2,
    spotPageSize: 10
  })
  useFakeAwsEnvironment(fake.url)

  const run = async (concurrency: number): Promise<{ readonly seconds: number; readonly calls: number; readonly offers: number }> => {
    const dir = await mkdtemp(join(tmpdir(), "frugal-refresh-bench-"))
    const callsBefore = fake.calls.length
    const started = performance.now()
    const summary = await Effect.runPromise(
      refreshMarketData({ regions: REGIONS, kinds: ["on-demand", "reserved", "savings-plan", "spot"], concurrency, spotHistoryHours: 24 }).pipe(
        Effect.provide(Layer.mergeAll(AwsClients.layer, CatalogCache.layerAt(dir)))
      )
    )
    const seconds = (performance.now() - started) / 1000
    await rm(dir, { recursive: true, force: true })
    const failures = summary.regions.flatMap((region) => region.failures)
    if (failures.length > 0) throw new Error(failures.map((failure) => failure.message).join("\n"))
    return { seconds, calls: fake.calls.length - callsBefore, offers: summary.regions.reduce((sum, region) => sum + region.offers, 0) }
}

  // One warm-up so module loading and JIT do not count against the first variant.
  await run(DEFAULT_REFRESH_CONCURRENCY)
  const sequential = await run(1)
  const concurrent = await run(DEFAULT_REFRESH_CONCURRENCY)
  await fake.close()

  console.log(`refresh of ${REGIONS.length} regions, ${LATENCY_MS} ms injected latency per call (loopback AWS):`)
  console.log(`  sequential (concurrency 1):  ${sequential.seconds.toFixed(2)} s  (${sequential.calls} calls, ${sequential.offers} offers)`)
  console.log(`  concurrent (concurrency ${DEFAULT_REFRESH_CONCURRENCY}):  ${concurrent.seconds.toFixed(2)} s  (${concurrent.calls} calls, ${concurrent.offers} offers)`)
  console.log(`  speed-up: ${(sequential.seconds / concurrent.seconds).toFixed(1)}×`)
}
