/**
 * Feeds measured throughput back into planning: an `Estimator` for `plan(..., { estimator })` that replaces
 * core's default MFU for an accelerator and precision with the MFU the ledger measured on completed runs.
 * MFU, not tokens/s, is what carries over between models (tokens/s falls with model size, the fraction of
 * peak reached does not, to first order), so time scales by defaultMfu / measuredMfu. Pure.
 */
import type { Workload } from "@frugal/core"
import { coreEstimator, type Estimator } from "@frugal/planner"
import type { MeasuredThroughput } from "./Calibration.ts"

const key = (accelerator: string, precision: string): string => `${accelerator.toLowerCase()}\u0000${precision}`

export const calibratedEstimator = (
  measured: ReadonlyArray<MeasuredThroughput>,
  base: Estimator = coreEstimator
): Estimator => {
  const mfuByKey = new Map<string, number>()
  for (const row of measured) {
    if (row.mfu !== null && row.mfu > 0) mfuByKey.set(key(row.accelerator, row.precision), row.mfu)
  }
  const measuredMfu = (workload: Workload, accelerator: string): number | undefined =>
    workload.kind === "training" ? mfuByKey.get(key(accelerator, workload.model.precision)) : undefined
  return {
    minimumGpus: base.minimumGpus,
    estimatePlacement: (workload, accelerator, gpus) => {
      const estimate = base.estimatePlacement(workload, accelerator, gpus)
      const mfu = measuredMfu(workload, accelerator.name)
      if (mfu === undefined || estimate.mfu === null || !(estimate.mfu > 0)) return estimate
      const speedup = mfu / estimate.mfu
      return {
        ...estimate,
        mfu,
        hours: estimate.hours / speedup,
        tokensPerSecondPerGpu: estimate.tokensPerSecondPerGpu === null ? null : estimate.tokensPerSecondPerGpu * speedup
      }
    }
  }
}
