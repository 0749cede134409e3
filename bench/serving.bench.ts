/**
 * `pnpm bench serving`: the service simulator.
 * 1. Speed: a month (30 days) at one-minute resolution over the nine 2023 zones, every policy (target ≤ 2 s for
 *    all six together), CPU time of this thread.
 * 2. Robustness of docs/serving.md's claims: Frugal against the baselines on both Azure traces (conversation and
 *    code), two rate scales each, six one-week windows of the spot traces (starting 0, 168, …, 840 h in).
 * 3. The baselines at equal availability: SkyServe and SpotHedge with their on-demand base raised to
 *    replicas.min (`base_ondemand_fallback_replicas`, the knob both offer for it).
 */
import { runServingBench } from "../packages/serving/test/bench/ServingBench.ts"

runServingBench().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
