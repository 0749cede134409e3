/**
 * `frugal service simulate FILE --requests CSV --spot-traces DIR [--rate-scale X] [--policies P,…] [--days N]
 *  [--start-hour H] [--daily-trough S] [--peak-hour-utc H] [--baseline-on-demand-base N] [--json]`:
 * the service against a request trace tiled over days with a daily profile and the zones' spot availability.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { POLICY_NAMES } from "@frugal/serving"
import { catalogFlag } from "../../Catalogs.ts"
import { lazy } from "../../Lazy.ts"
import { file, json } from "./Flags.ts"

const requests = Flag.String("requests").pipe(
  Flag.withDescription("Request trace: TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM trace) or minute,requests"),
  Flag.withMetavar("CSV")
)
const spotTraces = Flag.String("spot-traces").pipe(
  Flag.withDescription("Directory (or file) of spot availability traces named after their zones (us-east-1a_v100_1.json)"),
  Flag.withMetavar("DIR")
)
const rateScale = Flag.Finite("rate-scale").pipe(Flag.withDescription("Multiply the request rate"), Flag.withDefault(1))
const policies = Flag.String("policies").pipe(
  Flag.withDescription(`Comma-separated: ${POLICY_NAMES.join(", ")}`),
  Flag.withDefault(POLICY_NAMES.join(","))
)
const days = Flag.Finite("days").pipe(Flag.withDescription("Days to replay"), Flag.withDefault(7))
const startHour = Flag.Finite("start-hour").pipe(Flag.withDescription("Hour of the spot traces the replay starts at"), Flag.withDefault(0))
const dailyTrough = Flag.Finite("daily-trough").pipe(
  Flag.withDescription("Load of the quietest hour as a share of the busiest (daily profile)"),
  Flag.withDefault(0.3)
)
const peakHour = Flag.Finite("peak-hour-utc").pipe(Flag.withDescription("Busiest hour of the day, UTC"), Flag.withDefault(18.75))
const baselineBase = Flag.Int("baseline-on-demand-base").pipe(
  Flag.withDescription("On-demand base of the skyserve and spothedge baselines (default: the service's onDemandBase)"),
  Flag.optional
)

export const serviceSimulate = Command.make(
  "simulate",
  {
    file,
    requests,
    spotTraces,
    rateScale,
    policies,
    days,
    startHour,
    dailyTrough,
    peakHour,
    baselineBase,
    catalog: catalogFlag,
    json
  },
  lazy(() => import("./run/SimulateRun.ts"))
).pipe(
  Command.withDescription("Replay a request trace against spot availability traces: Frugal's policy and the baselines"),
  Command.withExamples([{
    command: "frugal service simulate examples/service-chat.yaml --requests packages/serving/data/request-traces/AzureLLMInferenceTrace_conv.csv --spot-traces packages/planner/data/spot-traces/availability/1-node/aws-02-15-2023",
    description: "A week of the Azure conversation trace over the nine 2023 zones"
  }])
)
