/**
 * Frugal's deadline-aware spot policy, for one zone or several.
 *
 * Slack is the time to the deadline beyond what on-demand needs to finish from here. Uniform
 * Progress (Wu et al., NSDI '24, §4.2) keeps it proportional to the time left; Greedy spends it
 * all first. Frugal spends it on purpose and, above all, stops paying changeovers that do not pay
 * back (on the paper's traces a third of Uniform Progress's cost over the optimum is changeovers):
 * 1. Spot whenever a zone has it, unless the rules below keep on-demand. Among zones: stay while
 *    the held one has capacity, else the cheapest (price-aware, with each zone's own price trace).
 * 2. Without spot, wait while the slack is above a pace line a little below Uniform Progress's
 *    (`lineScale`·initial slack·time left/R), lower where the zones have had spot more of the time
 *    observed and higher where less (`lineAvailabilitySlope`: waiting is cheaper where spot comes
 *    back sooner). Below it, start on-demand once the outage has lasted `outageGateChangeovers`·d
 *    or half the zone's mean outage so far, whichever is shorter (short outages are common: wait
 *    them out, but no longer than a typical one), or at once when the slack is
 *    `urgencyChangeovers`·d under the line. With several zones the line is closer to Uniform
 *    Progress's, an outage of every zone starts on-demand at once, and on-demand is left only when
 *    ahead of the line (`multiZone…`): each pre-emption there is a move that spends d.
 * 3. On-demand is left only for spot, never to wait: relaunching it costs a changeover at the
 *    on-demand price.
 * 4. Leave on-demand for spot only when (a) the slack can pay two changeovers (there, and back if
 *    spot goes), (b) the spot's expected remaining lifetime L, estimated online from the zone's
 *    history at the spot's current age (lifetimes are heavy-tailed: young spot dies young), saves
 *    more than it costs: (p_od − p_spot)·(L − d) > (p_od + p_spot)·d + (p_od − p_spot)·2d, the
 *    two-changeover form of the paper's kd/(k−1) threshold with the slack it uses priced in, and
 *    (c) the spot has been up `ageGateChangeovers`·d, or the job is ahead of the line.
 * Every decision goes through the exact safety net, so the deadline is never missed.
 */
import { isSafe, slackHours } from "./SafetyNet.ts"
import { type Holding, type JobState, NONE, ON_DEMAND, type Policy, type SpotHistory, spotIn } from "./Policy.ts"

export interface FrugalParameters {
  /** The pace line: wait for spot while slack ≥ lineScale·(initial slack)·(time left / R). */
  readonly lineScale: number
  /** Wait out an outage this many changeovers before starting on-demand (unless urgent). */
  readonly outageGateChangeovers: number
  /** ...but no longer than this share of the zones' mean outage observed so far. */
  readonly outageGateMeanShare: number
  /**
   * The line moves by this × (0.5 − the share of observed time the best zone had spot): down where
   * spot is usually there (waiting for it is cheap), up where it is not.
   */
  readonly lineAvailabilitySlope: number
  /** Slack this many changeovers under the line makes on-demand urgent... */
  readonly urgencyChangeovers: number
  /** ...or this share of the initial slack under it, whichever is more. */
  readonly urgencySlackShare: number
  /** Leave on-demand for spot once it has been up this many changeovers (or when ahead). */
  readonly ageGateChangeovers: number
  /** Whether being ahead of the line lets the job leave on-demand for spot younger than the gate. */
  readonly aheadSkipsAgeGate: boolean
  /** Price of the slack two changeovers use, as a share of (on-demand − spot) price per hour. */
  readonly slackPriceShare: number
  /** Prior mean spot lifetime (hours), one pseudo-observation, for a zone without history. */
  readonly priorSpotLifetimeHours: number
  /**
   * With several zones: `lineScale` and `outageGateChangeovers` instead of the two above. Every
   * pre-emption is then a move that spends d of slack at once, so the line sits closer to Uniform
   * Progress's; and an outage in every zone at once is not the short blip the gate waits out.
   */
  readonly multiZoneLineScale: number
  readonly multiZoneOutageGateChangeovers: number
  /**
   * With several zones, leave on-demand only when ahead of the line (Uniform Progress's catch-up
   * rule): behind it, a turbulent period that pre-empts zone after zone would take the slack again.
   */
  readonly multiZoneLeaveOnDemandOnlyAhead: boolean
}

/** Tuned on the 2022-10-26 and 2023-02-15 AWS traces (docs/spot-policy.md has the table). */
export const defaultFrugalParameters: FrugalParameters = {
  lineScale: 0.85,
  outageGateChangeovers: 2,
  outageGateMeanShare: 0.5,
  lineAvailabilitySlope: 0.2,
  urgencyChangeovers: 2,
  urgencySlackShare: 0.08,
  ageGateChangeovers: 1.5,
  aheadSkipsAgeGate: true,
  slackPriceShare: 1,
  priorSpotLifetimeHours: 4,
  multiZoneLineScale: 0.95,
  multiZoneOutageGateChangeovers: 0,
  multiZoneLeaveOnDemandOnlyAhead: true
}

/** Mean length of the zone's completed spot periods, with the prior as one pseudo-observation. */
export const expectedSpotLifetimeHours = (history: SpotHistory, zone: number, priorHours: number): number =>
  (history.completedSpotPeriodHours(zone) + priorHours) / (history.completedSpotPeriods(zone) + 1)

/** Expected remaining lifetime of spot in `zone` given how long it has been up. */
const remainingSpotHours = (history: SpotHistory, zone: number, priorHours: number): number => {
  const age = history.currentStateHours(zone)
  const residual = history.meanResidualSpotHours(zone, age)
  return Number.isNaN(residual) ? Math.max(expectedSpotLifetimeHours(history, zone, priorHours), age) : residual
}

/**
 * The spot to take: the zone held while it has capacity (a move costs a changeover of slack and
 * money), else the cheapest zone with capacity (and, when leaving on-demand, worth leaving it for),
 * or null when there is none. Weighing zones by their expected spot lifetime as well was measured
 * and did worse on the nine-zone 2023 set: it moved more, and every move spends slack.
 */
const bestSpot = (
  state: JobState,
  history: SpotHistory,
  parameters: FrugalParameters,
  leavingOnDemand: boolean,
  slack: number,
  ahead: boolean
): Holding | null => {
  const held = state.holding
  if (held.kind === "spot" && state.spotAvailable[held.zone] === 1) return held
  let best = -1
  let bestPrice = Infinity
  for (let zone = 0; zone < state.spotAvailable.length; zone++) {
    if (state.spotAvailable[zone] !== 1) continue
    const price = state.spotPriceUsdPerHour[zone] ?? Infinity
    if (price >= bestPrice) continue
    if (leavingOnDemand && !worthLeavingOnDemand(state, history, zone, slack, ahead, parameters)) continue
    best = zone
    bestPrice = price
  }
  return best < 0 ? null : spotIn(best)
}

/** Whether leaving on-demand for `zone`'s spot is expected to pay back (rule 4). */
const worthLeavingOnDemand = (
  state: JobState,
  history: SpotHistory,
  zone: number,
  slack: number,
  ahead: boolean,
  parameters: FrugalParameters
): boolean => {
  const d = state.changeoverHours
  if (slack - 2 * d < 0) return false
  if (state.spotAvailable.length > 1 && !ahead && parameters.multiZoneLeaveOnDemandOnlyAhead) return false
  const proven = history.currentStateHours(zone) >= parameters.ageGateChangeovers * d
  if (!(proven || (ahead && parameters.aheadSkipsAgeGate))) return false
  const onDemandPrice = state.onDemandPriceUsdPerHour
  const spotPrice = state.spotPriceUsdPerHour[zone] ?? onDemandPrice
  // Spot is useful only as long as the job still has work for it.
  const lifetime = Math.min(remainingSpotHours(history, zone, parameters.priorSpotLifetimeHours), state.computeHoursLeft + d)
  const saving = (onDemandPrice - spotPrice) * Math.max(0, lifetime - d)
  const cost = (onDemandPrice + spotPrice) * d + parameters.slackPriceShare * (onDemandPrice - spotPrice) * 2 * d
  return saving > cost
}

export const makeFrugalPolicy = (parameters: FrugalParameters = defaultFrugalParameters): Policy => ({
  name: "frugal",
  decide: (state, history) => {
    if (state.computeHoursLeft <= 0) return NONE
    const d = state.changeoverHours
    const slack = slackHours(state)
    const initialSlack = Math.max(0, state.deadlineHours - state.computeHours - d)
    const timeShare = Math.max(0, state.hoursToDeadline / state.deadlineHours)
    const multiZone = state.spotAvailable.length > 1
    // What the history says about the zones (no object: the simulator calls this on every tick): the best zone's
    // share of observed time with spot, and the shortest mean outage (time without spot per completed spot
    // period; Infinity before any period has ended).
    let availability = 0
    let meanOutageHours = Number.POSITIVE_INFINITY
    for (let zone = 0; zone < state.spotAvailable.length; zone++) {
      const observed = history.observedHours(zone)
      if (!(observed > 0)) continue
      const available = history.availableHours(zone)
      availability = Math.max(availability, available / observed)
      const periods = history.completedSpotPeriods(zone)
      if (periods > 0) meanOutageHours = Math.min(meanOutageHours, (observed - available) / periods)
    }
    const lineScale = (multiZone ? parameters.multiZoneLineScale : parameters.lineScale) +
      parameters.lineAvailabilitySlope * (0.5 - availability)
    const outageGate = multiZone ? parameters.multiZoneOutageGateChangeovers : parameters.outageGateChangeovers
    const line = lineScale * initialSlack * timeShare
    const held = state.holding
    const ahead = slack >= line
    if (held.kind === "on-demand") {
      const spot = bestSpot(state, history, parameters, true, slack, ahead)
      return spot !== null && isSafe(state, spot) ? spot : ON_DEMAND
    }
    const spot = bestSpot(state, history, parameters, false, slack, ahead)
    if (spot !== null) return isSafe(state, spot) ? spot : ON_DEMAND
    if (slack < line) {
      let outageHours = Infinity
      for (let zone = 0; zone < state.spotAvailable.length; zone++) {
        outageHours = Math.min(outageHours, history.currentStateHours(zone))
      }
      const urgent = slack < line - Math.max(parameters.urgencyChangeovers * d, parameters.urgencySlackShare * initialSlack)
      const gateHours = Math.min(outageGate * d, parameters.outageGateMeanShare * meanOutageHours)
      if (urgent || outageHours >= gateHours) return ON_DEMAND
    }
    return isSafe(state, NONE) ? NONE : ON_DEMAND
  }
})

export const frugalPolicy: Policy = makeFrugalPolicy()
