/**
 * `frugal prices refresh` for 10 regions against the loopback AWS with 50 ms of injected latency per call,
 * sequential versus concurrent (see packages/pricing/test/aws/RefreshBench.ts).
 *
 *   pnpm exec node bench/refresh.bench.ts
 */
import { runRefreshBench } from "../packages/pricing/test/aws/RefreshBench.ts"

await runRefreshBench()
