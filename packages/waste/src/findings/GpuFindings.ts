/** Findings from GPU utilisation: idle GPUs and GPUs larger than the work needs. */
import { formatUsd, formatUsdPerHour } from "@frugal/core"
import type { ComputeSpend, GpuSeries } from "../CostData.ts"
import type { Evidence, FindingBody } from "../Finding.ts"
import { findingRule } from "./FindingRule.ts"
import { costliest, evidenceCostUsd, type FindingContext, gpusPerInstance, monthly, onDemandPrice, regionOf } from "./FindingContext.ts"
import { type GpuUsage, gpuUsage } from "./GpuUsage.ts"

/** Average price paid per instance-hour of a type over the period, across purchase options. */
export const effectiveRate = (compute: ReadonlyArray<ComputeSpend>, instanceType: string): number => {
  let cost = 0
  let hours = 0
  for (const row of compute) {
    if (row.instanceType !== instanceType) continue
    cost += row.costUsd
    hours += row.usageHours
  }
  return hours > 0 ? cost / hours : 0
}

interface Instance {
  readonly instanceId: string
  readonly instanceType: string
  readonly gpus: ReadonlyArray<GpuUsage>
}

const instancesOf = (context: FindingContext): ReadonlyArray<Instance> => {
  const byId = new Map<string, Array<GpuSeries>>()
  for (const series of context.gpus) byId.set(series.instanceId, [...(byId.get(series.instanceId) ?? []), series])
  return [...byId.entries()].map(([instanceId, series]) => ({
    instanceId,
    instanceType: series[0]?.instanceType ?? "",
    gpus: series.map((one) =>
      gpuUsage(one, context.thresholds.idleUtilizationPct, context.thresholds.idleMinHours)
    )
  }))
}

/** The instances with GPU utilisation, computed once per report for the two rules that read them. */
const instancesByContext = new WeakMap<FindingContext, ReadonlyArray<Instance>>()
const gpuInstances = (context: FindingContext): ReadonlyArray<Instance> => {
  const known = instancesByContext.get(context)
  if (known !== undefined) return known
  const instances = instancesOf(context)
  instancesByContext.set(context, instances)
  return instances
}

const hourLabel = (iso: string): string => `${iso.slice(0, 13)}:00Z`

const idleGpus = (context: FindingContext, instances: ReadonlyArray<Instance>): FindingBody | undefined => {
  const evidence: Array<Evidence> = []
  for (const instance of instances) {
    const stretches = instance.gpus.flatMap((gpu) => gpu.idle.map((stretch) => ({ gpu: gpu.series.gpuIndex, ...stretch })))
    if (stretches.length === 0) continue
    const gpuHours = stretches.reduce((total, stretch) => total + stretch.hours, 0)
    const perGpuRate = effectiveRate(context.costs.compute, instance.instanceType) /
      gpusPerInstance(context, instance.instanceType)
    const granted = context.pools.claimDollarsAnyOption(instance.instanceType, gpuHours * perGpuRate)
    if (granted.costUsd <= 0) continue
    const from = stretches.map((stretch) => stretch.from).sort()[0] ?? null
    const to = stretches.map((stretch) => stretch.to).sort().at(-1) ?? null
    const gpusIdle = [...new Set(stretches.map((stretch) => stretch.gpu))].sort((a, b) => a - b)
    // The same window on several GPUs is one line: "GPU 0-3 2026-11-02T00:00Z..2026-11-02T05:00Z (6 h)".
    const byWindow = new Map<string, { from: string; to: string; hours: number; gpus: Array<number> }>()
    for (const stretch of stretches) {
      const key = `${stretch.from}|${stretch.to}`
      const window = byWindow.get(key) ?? { from: stretch.from, to: stretch.to, hours: stretch.hours, gpus: [] }
      window.gpus.push(stretch.gpu)
      byWindow.set(key, window)
    }
    const windows = [...byWindow.values()].sort((a, b) => b.hours * b.gpus.length - a.hours * a.gpus.length || a.from.localeCompare(b.from))
    const shown = windows.slice(0, 3).map((window) =>
      `GPU ${window.gpus.sort((a, b) => a - b).join(",")} ${hourLabel(window.from)}..${hourLabel(window.to)} (${window.hours} h)`
    )
    evidence.push({
      subject: instance.instanceId,
      instanceType: instance.instanceType,
      from,
      to,
      hours: gpuHours,
      costUsd: granted.costUsd,
      detail: `GPU ${gpusIdle.join(", ")} below ${context.thresholds.idleUtilizationPct}% for ${gpuHours} GPU-hours ` +
        `at ${formatUsdPerHour(perGpuRate)} per GPU, in ${windows.length} stretch(es); largest: ${shown.join("; ")}`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const worst = costliest(evidence)
  return {
    title: `Idle GPUs: ${evidence.length} instance(s) below ${context.thresholds.idleUtilizationPct}% utilisation`,
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Stop or scale in idle GPU instances when their queue is empty (start with ${worst?.subject ?? ""}, ` +
      `${formatUsd(worst?.costUsd ?? 0)} idle): an auto-stop after ${context.thresholds.idleMinHours} h below ` +
      `${context.thresholds.idleUtilizationPct}% would have saved it.`
  }
}

const oversizedGpus = (context: FindingContext, instances: ReadonlyArray<Instance>): FindingBody | undefined => {
  const evidence: Array<Evidence> = []
  const targets: Array<string> = []
  const thresholds = context.thresholds
  for (const instance of instances) {
    const current = context.catalog.instanceTypes.find((type) => type.name === instance.instanceType)
    if (current === undefined) continue
    const busy = instance.gpus.flatMap((gpu) => gpu.busy.map((sample) => ({ sample, hours: gpu.sampleHours })))
    const busyInstanceHours = busy.reduce((total, item) => total + item.hours, 0) / gpusPerInstance(context, instance.instanceType)
    const utilizations = busy.map((item) => item.sample.utilizationPct).filter((value) => value !== null)
    const memories = instance.gpus.flatMap((gpu) => gpu.series.samples.map((sample) => sample.memoryUsedMiB))
      .filter((value) => value !== null)
    if (busyInstanceHours < thresholds.oversizedMinHours || utilizations.length === 0 || memories.length === 0) continue
    const meanUtilization = utilizations.reduce((a, b) => a + b, 0) / utilizations.length
    if (meanUtilization >= thresholds.oversizedMaxUtilizationPct) continue
    // nvidia-smi reports memory in MiB.
    const peakGiB = memories.reduce((peak, value) => Math.max(peak, value), 0) / 1024
    const neededGiB = peakGiB * thresholds.oversizedMemoryHeadroom
    const region = regionOf(context, instance.instanceType)
    const currentPrice = onDemandPrice(context, instance.instanceType, region)
    if (currentPrice === undefined) continue
    const alternative = context.catalog.instanceTypes
      .filter((type) =>
        type.name !== current.name && type.acceleratorCount === current.acceleratorCount &&
        type.acceleratorMemoryGiB >= neededGiB && type.arch === current.arch
      )
      .map((type) => ({ type, price: onDemandPrice(context, type.name, region) }))
      .filter((candidate): candidate is { type: typeof candidate.type; price: number } =>
        candidate.price !== undefined && candidate.price < currentPrice
      )
      .sort((a, b) => a.price - b.price)[0]
    if (alternative === undefined) continue
    const wanted = busyInstanceHours * effectiveRate(context.costs.compute, instance.instanceType)
    const granted = context.pools.claimDollarsAnyOption(instance.instanceType, wanted)
    // The smaller type is priced in proportion, so a spot or committed price keeps its discount.
    const costUsd = granted.costUsd * (1 - alternative.price / currentPrice)
    if (costUsd <= 0) continue
    targets.push(alternative.type.name)
    evidence.push({
      subject: instance.instanceId,
      instanceType: instance.instanceType,
      from: busy.reduce<string | null>((first, item) => (first === null || item.sample.time < first ? item.sample.time : first), null),
      to: busy.reduce<string | null>((last, item) => (last === null || item.sample.time > last ? item.sample.time : last), null),
      hours: granted.hours,
      costUsd,
      detail: `busy ${busyInstanceHours.toFixed(1)} h at ${meanUtilization.toFixed(0)}% mean utilisation, peak memory ` +
        `${peakGiB.toFixed(1)} GiB of ${current.acceleratorMemoryGiB.toFixed(1)} GiB per ${current.accelerator}; ` +
        `${alternative.type.name} (${alternative.type.acceleratorCount}× ${alternative.type.accelerator} ` +
        `${alternative.type.acceleratorMemoryGiB.toFixed(1)} GiB) costs ${formatUsdPerHour(alternative.price)} vs ${formatUsdPerHour(currentPrice)} on demand in ${region}`
    })
  }
  if (evidence.length === 0) return undefined
  const costUsd = evidenceCostUsd(evidence)
  const largest = evidence.reduce((best, item, index) => (item.costUsd > (evidence[best]?.costUsd ?? 0) ? index : best), 0)
  const first = evidence[largest]
  const target = targets[largest] ?? ""
  return {
    title: `Oversized GPUs: ${evidence.length} instance(s) use little of their GPU`,
    costUsd,
    monthlySavingsUsd: monthly(context, costUsd),
    evidence,
    action: `Move ${first?.subject ?? ""} (${first?.instanceType ?? ""}) to ${target}: its work fits with ` +
      `${Math.round((thresholds.oversizedMemoryHeadroom - 1) * 100)}% memory headroom.`
  }
}

export const idleGpuRule = findingRule({
  kind: "idle-gpu",
  precedence: 20,
  label: "Idle GPUs",
  explanation: "GPU-hours below the idle threshold (30%) in stretches of at least an hour × what the instance cost per GPU-hour.",
  find: (context) => idleGpus(context, gpuInstances(context))
})

export const oversizedGpuRule = findingRule({
  kind: "oversized-gpu",
  precedence: 30,
  label: "Oversized GPUs",
  explanation: "Busy hours of an instance whose peak GPU memory (with 25% headroom) fits a cheaper GPU and whose mean " +
    "utilisation is under 50% × the price difference, in proportion to what was paid.",
  find: (context) => oversizedGpus(context, gpuInstances(context))
})
