/**
 * `frugal plan FILE [--json] [--top N] [--catalog embedded|aws|PATH] [--pricing-config FILE] [--infra FILE]`: the
 * cheapest placement that meets the workload's constraints, with the ranked alternatives. With an infrastructure
 * profile (`--infra`, else FRUGAL_INFRA, else the XDG default when it exists) only what the profile can launch is
 * ranked, its Slurm partitions and Kubernetes pools included. One workload
 * with no feasible placement exits 3 naming the binding constraint; a fleet prints every workload's plan and exits 3
 * when any of them is infeasible.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { InvalidInput, NoFeasiblePlacement } from "@frugal/core"
import { InfraCatalog } from "@frugal/pricing"
import { type FleetPlan, isFleetPlan, loadInfraProfile, planWorkloads } from "@frugal/sdk"
import { catalogFlag, catalogLayer, pricingConfigFlag } from "../Catalogs.ts"
import { FleetInfeasible } from "../ExitCode.ts"
import { catalogLines, usd } from "../Format.ts"
import { calibrationFlag, calibrationJson, calibrationLines, loadCalibration, workloadsFor } from "../MeasuredMfu.ts"
import { infeasibleText, planText } from "../PlanText.ts"
import { renderTable } from "../Table.ts"
import { readWorkloadText } from "../WorkloadInput.ts"

/** Rows of the human table when `--top` is not given; `--json` then returns the planner's default. */
const DEFAULT_ROWS = 8
const MAX_TOP = 1000

const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec (YAML or JSON; one workload or workloads: [...]); - reads standard input"),
  Argument.withMetavar("FILE")
)
const json = Flag.Boolean("json").pipe(Flag.withDescription("Print the plan as JSON"), Flag.withDefault(false))
const top = Flag.Int("top").pipe(
  Flag.withDescription(`How many ranked options to show per workload (1..${MAX_TOP})`),
  Flag.withMetavar("N"),
  Flag.optional
)

const infra = Flag.String("infra").pipe(
  Flag.withDescription("Infrastructure profile: rank only what it can launch (default FRUGAL_INFRA, else $XDG_CONFIG_HOME/frugal/infra.yaml when it exists)"),
  Flag.withMetavar("FILE"),
  Flag.optional
)

/** The catalog held to the profile that applies, when one does. */
const profileCatalogLayer = (flag: Option.Option<string>, base: ReturnType<typeof catalogLayer>) =>
  Layer.unwrap(Effect.map(loadInfraProfile(Option.getOrUndefined(flag), process.env), (loaded) =>
    loaded.path === null ? base : InfraCatalog.layer(loaded.profile).pipe(Layer.provide(base))))

const checkTop = (value: Option.Option<number>): Effect.Effect<number | undefined, InvalidInput> =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (n) =>
      n >= 1 && n <= MAX_TOP
        ? Effect.succeed(n)
        : Effect.fail(
          new InvalidInput({
            source: "--top",
            issues: [{ path: "--top", expected: `a whole number from 1 to ${MAX_TOP}`, actual: `${n}` }]
          })
        )
  })

const fleetText = (fleet: FleetPlan, rows: number): ReadonlyArray<string> => {
  const s = fleet.summary
  const sections = fleet.workloads.map((plan) =>
    plan.status === "ok"
      ? planText(plan, rows).slice(0, -(catalogLines(plan.catalog).length + 1)).join("\n")
      : infeasibleText(plan).join("\n")
  )
  const overview = renderTable(
    [{ header: "WORKLOAD" }, { header: "KIND" }, { header: "STATUS" }, { header: "RECOMMENDATION" }, { header: "COST", align: "right" }],
    fleet.workloads.map((plan) => {
      const best = plan.status === "ok" ? plan.options[0] : undefined
      return [
        plan.workload,
        plan.kind,
        plan.status === "ok" ? "ok" : `INFEASIBLE (${plan.constraint})`,
        best === undefined ? "—" : `${best.instanceCount} × ${best.instanceType} ${best.purchaseOption} in ${best.region}`,
        best === undefined ? "—" : plan.status === "ok" && plan.costPeriod === "month" ? `${usd(best.expectedCostUsd)}/month` : usd(best.expectedCostUsd)
      ]
    })
  )
  return [
    `Fleet of ${s.workloads} workloads: ${s.feasible} placed, ${s.infeasible} without a feasible placement.`,
    `Jobs ${usd(s.jobsCostUsd)} in total; services ${usd(s.servicesCostPerMonthUsd)} a month.` +
      (s.ownedCommitmentSavingsUsd > 0 ? ` Owned commitments save ${usd(s.ownedCommitmentSavingsUsd)}.` : ""),
    "",
    ...overview,
    "",
    sections.join("\n\n"),
    "",
    ...catalogLines(fleet.catalog)
  ]
}

const fleetFailures = (fleet: FleetPlan): ReadonlyArray<NoFeasiblePlacement> =>
  fleet.workloads.flatMap((plan) =>
    plan.status === "infeasible"
      ? [new NoFeasiblePlacement({ workload: plan.workload, constraint: plan.constraint, detail: plan.detail })]
      : []
  )

export const plan = Command.make(
  "plan",
  { file, json, top, catalog: catalogFlag, pricingConfig: pricingConfigFlag, calibration: calibrationFlag, infra },
  Effect.fnUntraced(function*(input) {
    const topN = yield* checkTop(input.top)
    const text = yield* readWorkloadText(input.file)
    const source = input.file === "-" ? "stdin" : input.file
    const calibration = yield* loadCalibration(input.calibration)
    const result = yield* planWorkloads(text, { top: topN, estimator: calibration.estimator }, source)
    const workloads = yield* workloadsFor(calibration, text, source)
    const rows = topN ?? DEFAULT_ROWS
    if (input.json) {
      yield* Console.log(JSON.stringify({ ...result, ...calibrationJson(calibration, workloads) }, null, 2))
    } else if (isFleetPlan(result)) {
      yield* Console.log([...fleetText(result, rows), ...calibrationLines(calibration, workloads)].join("\n"))
    } else {
      yield* Console.log([...planText(result, rows), ...calibrationLines(calibration, workloads)].join("\n"))
    }
    if (isFleetPlan(result) && result.summary.infeasible > 0) {
      return yield* new FleetInfeasible({ failures: fleetFailures(result) })
    }
  }, (effect, input) =>
    Effect.provide(effect, profileCatalogLayer(input.infra, catalogLayer(input.catalog, Option.getOrUndefined(input.pricingConfig)))))
).pipe(
  Command.withDescription("Find the cheapest placement that meets a workload's deadline, budget and risk limits"),
  Command.withExamples([
    { command: "frugal plan examples/llama-7b-finetune.yaml", description: "Plan a 7B fine-tune" },
    { command: "frugal plan examples/fleet.yaml --json", description: "Plan a fleet, as JSON" }
  ])
)
