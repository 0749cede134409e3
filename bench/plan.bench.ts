/**
 * In-process planner figures: the median time of `plan` for one workload against the whole embedded catalog
 * (target ≤ 5 ms) and a 10,000-workload `planFleet` (target ≤ 3 s, peak memory ≤ 300 MB), with RSS and heap.
 * `pnpm bench plan`. Times exclude loading the catalog, which is reported on its own (paid once per process).
 */
import { runPlanBench } from "../packages/planner/test/bench/PlanBench.ts"

runPlanBench()
