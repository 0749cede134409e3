/**
 * `frugal plan FILE [--json] [--top N] [--catalog embedded|aws|PATH] [--pricing-config FILE] [--infra FILE]`: the
 * cheapest placement that meets the workload's constraints, with the ranked alternatives. With an infrastructure
 * profile (`--infra`, else FRUGAL_INFRA, else the XDG default when it exists) only what the profile can launch is
 * ranked, its Slurm partitions and Kubernetes pools included. A profile with AWS regions holds the plan to the
 * account's EC2 vCPU quotas there: asked of Service Quotas (cached 6 h) with `--catalog aws`; with an offline
 * catalog they are not asked for, and the plan's notes say so (the SDK's `quotaSourceFor`). One workload
 * with no feasible placement exits 3 naming the binding constraint; a fleet prints every workload's plan and exits 3
 * when any of them is infeasible.
 */
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd, InvalidInput, NoFeasiblePlacement } from "@frugal/core"
import { calibratedJson, type FleetPlan, isFleetPlan, planCalibrated, quotaSourceFor } from "@frugal/sdk"
import { catalogFlag, catalogLayer, pricingConfigFlag } from "../Catalogs.ts"
import { FleetInfeasible } from "../ExitCode.ts"
import { catalogLines } from "../Format.ts"
import { environment } from "../Environment.ts"
import { calibrationFlag, calibrationLines } from "../MeasuredMfu.ts"
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
        best === undefined ? "—" : plan.status === "ok" && plan.costPeriod === "month" ? `${formatUsd(best.expectedCostUsd, "glance")}/month` : formatUsd(best.expectedCostUsd, "glance")
      ]
    })
  )
  return [
    `Fleet of ${s.workloads} workloads: ${s.feasible} placed, ${s.infeasible} without a feasible placement.`,
    `Jobs ${formatUsd(s.jobsCostUsd, "glance")} in total; services ${formatUsd(s.servicesCostPerMonthUsd, "glance")} a month.` +
      (s.ownedCommitmentSavingsUsd > 0 ? ` Owned commitments save ${formatUsd(s.ownedCommitmentSavingsUsd, "glance")}.` : ""),
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
    const planned = yield* planCalibrated(text, {
      top: topN,
      calibration: input.calibration,
      source,
      infra: Option.getOrUndefined(input.infra),
      quotas: quotaSourceFor(input.catalog),
      env: environment
    })
    const { result, calibration, workloads } = planned
    const rows = topN ?? DEFAULT_ROWS
    if (input.json) {
      yield* Console.log(JSON.stringify(calibratedJson(planned), null, 2))
    } else if (isFleetPlan(result)) {
      yield* Console.log([...fleetText(result, rows), ...calibrationLines(calibration, workloads)].join("\n"))
    } else {
      yield* Console.log([...planText(result, rows), ...calibrationLines(calibration, workloads)].join("\n"))
    }
    if (isFleetPlan(result) && result.summary.infeasible > 0) {
      return yield* new FleetInfeasible({ failures: fleetFailures(result) })
    }
  }, (effect, input) => Effect.provide(effect, catalogLayer(input.catalog, Option.getOrUndefined(input.pricingConfig))))
).pipe(
  Command.withDescription("Find the cheapest placement that meets a workload's deadline, budget and risk limits"),
  Command.withExamples([
    { command: "frugal plan examples/llama-7b-finetune.yaml", description: "Plan a 7B fine-tune" },
    { command: "frugal plan examples/fleet.yaml --json", description: "Plan a fleet, as JSON" }
  ])
)
