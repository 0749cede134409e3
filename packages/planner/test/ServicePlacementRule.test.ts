/**
 * Plans for services stop recommending a single-zone pure-spot placement unless the workload says it tolerates it
 * (issue 14): on the embedded catalog, an interruptible 8B chat service used to get pure spot in one zone.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { EmbeddedCatalog, PriceCatalog } from "@frugal/pricing"
import { evaluatePlan, indexCatalog, toleratesLoneSpot } from "../src/index.ts"
import { workload } from "./fixtures.ts"

const catalog = Effect.runSync(
  Effect.gen(function*() {
    return yield* (yield* PriceCatalog).catalog()
  }).pipe(Effect.provide(EmbeddedCatalog.layer))
)
const index = indexCatalog(catalog)

const chat = (service: Record<string, unknown> | undefined) =>
  workload({
    name: "chat",
    kind: "inference",
    model: { parameters: "8B" },
    inference: { tokensPerSecond: 1000 },
    constraints: { interruptible: true, regions: ["us-east-2"] },
    ...(service === undefined ? {} : { service })
  })

const purchaseOptions = (w: ReturnType<typeof chat>) => {
  const plan = evaluatePlan(w, index, { top: 50 })
  if (plan.status !== "ok") throw new Error(`expected a plan: ${plan.constraint}`)
  return new Set(plan.options.map((o) => o.purchaseOption))
}

const base = { replicas: { min: 1, max: 8 }, target: { requestsInFlightPerReplica: 8 } }

describe("single-zone pure spot for services", () => {
  it("is not recommended to an interruptible inference workload that says nothing about it", () => {
    expect(purchaseOptions(chat(undefined)).has("spot")).toBe(false)
    expect(toleratesLoneSpot(chat(undefined))).toBe(false)
  })

  it("nor to a service that spreads over two zones or keeps an on-demand base", () => {
    expect(purchaseOptions(chat({ ...base, spot: true, zones: { min: 2 }, onDemandBase: 0 })).has("spot")).toBe(false)
    expect(purchaseOptions(chat({ ...base, spot: true, zones: { min: 1 }, onDemandBase: 1 })).has("spot")).toBe(false)
  })

  it("is priced again when the service says spot, one zone and no on-demand base (ranked with the rest by cost and capacity)", () => {
    const tolerant = chat({ ...base, spot: true, zones: { min: 1 }, onDemandBase: 0 })
    expect(toleratesLoneSpot(tolerant)).toBe(true)
    const plan = evaluatePlan(tolerant, index, { top: 50 })
    if (plan.status !== "ok") throw new Error("expected a plan")
    expect(plan.options.some((option) => option.purchaseOption === "spot")).toBe(true)
  })

  it("leaves jobs alone: an interruptible training job still gets spot", () => {
    const job = workload({ name: "t", kind: "training", model: { parameters: "1B" }, training: { tokens: "1B" }, constraints: { regions: ["us-east-2"] } })
    expect(toleratesLoneSpot(job)).toBe(true)
  })
})
