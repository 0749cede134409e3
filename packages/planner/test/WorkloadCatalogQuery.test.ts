import { assert, describe, it } from "@effect/vitest"
import { type CatalogQuery, EmbeddedCatalog, filterCatalog, PriceCatalog } from "@frugal/pricing"
import { Effect } from "effect"
import { Planner } from "../src/index.ts"
import { catalogQueryFor } from "../src/WorkloadCatalogQuery.ts"
import { workload } from "./fixtures.ts"

const job = (name: string, extra: Record<string, unknown>) =>
  workload({
    name,
    kind: "training",
    model: { parameters: "7B", precision: "bf16" },
    training: { tokens: "20B" },
    ...extra
  })

/** The embedded catalog, recording every query the planner sends it. */
const recording = () => {
  const queries: Array<CatalogQuery | undefined> = []
  const inner = EmbeddedCatalog.catalog()
  const service = PriceCatalog.of({
    catalog: (query) =>
      Effect.sync(() => {
        queries.push(query)
        return filterCatalog(inner, query)
      })
  })
  return { queries, service, inner }
}

describe("the catalog query the planner sends", () => {
  it("names the workload's regions and accelerators, and its purchase options with on-demand for the comparison", () => {
    const query = catalogQueryFor([job("a", {
      resources: { accelerators: ["H100", "A100"], purchaseOptions: ["spot"] },
      constraints: { regions: ["us-west-2", "us-east-1"], interruptible: true }
    })])
    assert.deepStrictEqual(query, {
      regions: ["us-east-1", "us-west-2"],
      accelerators: ["A100-40GB", "A100-80GB", "H100"],
      purchaseOptions: ["spot", "on-demand"]
    })
  })

  it("leaves spot out for a job that is not interruptible, and asks for every region when none is named", () => {
    assert.deepStrictEqual(catalogQueryFor([job("a", { constraints: { interruptible: false } })]), {
      purchaseOptions: ["on-demand", "reserved", "savings-plan"]
    })
    assert.strictEqual(catalogQueryFor([job("a", { constraints: { interruptible: true } })]), undefined)
  })

  it("asks for the union over a fleet, and for everything a member leaves open", () => {
    const east = job("east", { resources: { accelerators: ["L4"] }, constraints: { regions: ["us-east-1"], interruptible: false } })
    const tokyo = job("tokyo", { resources: { accelerators: ["A10G"] }, constraints: { regions: ["ap-northeast-1"], interruptible: true } })
    assert.deepStrictEqual(catalogQueryFor([east, tokyo]), { regions: ["ap-northeast-1", "us-east-1"], accelerators: ["A10G", "L4"] })
    const anywhere = job("anywhere", { constraints: { interruptible: false } })
    assert.deepStrictEqual(catalogQueryFor([east, anywhere]), { purchaseOptions: ["on-demand", "reserved", "savings-plan"] })
  })

  it.effect("Planner.plan asks for the named region only, and plans the same as over the whole catalog", () =>
    Effect.gen(function*() {
      const { queries, service, inner } = recording()
      const spec = job("west", { constraints: { regions: ["us-west-2"], deadlineHours: 72, interruptible: true } })
      const narrowed = yield* Planner.plan(spec).pipe(Effect.provideService(PriceCatalog, service))
      assert.deepStrictEqual(queries, [{ regions: ["us-west-2"] }])
      const whole = yield* Planner.plan(spec).pipe(Effect.provideService(PriceCatalog, PriceCatalog.of({ catalog: () => Effect.succeed(inner) })))
      assert.deepStrictEqual(narrowed.options, whole.options)
    }))

  it.effect("an infeasible plan still names the region as the binding constraint (re-planned over the whole catalog)", () =>
    Effect.gen(function*() {
      const { queries, service } = recording()
      // eu-west-3 sells no H100 (p5) instance in the snapshot.
      const spec = job("paris", { resources: { accelerators: ["H100"] }, constraints: { regions: ["eu-west-3"], interruptible: true } })
      const error = yield* Planner.plan(spec).pipe(Effect.provideService(PriceCatalog, service), Effect.flip)
      assert.strictEqual(error._tag, "NoFeasiblePlacement")
      if (error._tag !== "NoFeasiblePlacement") return
      assert.strictEqual(error.constraint, "constraints.regions")
      assert.strictEqual(error.detail, "no instance type that holds the workload is offered in eu-west-3")
      assert.deepStrictEqual(queries, [{ regions: ["eu-west-3"], accelerators: ["H100"] }, undefined])
    }))
})
