/**
 * Commitments the account already owns are filled first (pure). At admission a job's ranked placements gain, at
 * their head, the owned capacity that can hold them now:
 *
 * - A reservation of `count` × type in a region holds an on-demand placement of the same type and region whose
 *   instances fit in what the running jobs leave of it; the placement becomes `reserved`, charged at the
 *   reservation's effective hourly rate.
 * - A savings plan holds an on-demand placement whose discounted hourly cost fits in what the running jobs leave of
 *   the hourly commitment; it becomes `savings-plan`, charged at the discounted rate.
 * Reservations come before the savings plan (a reservation covers one type only, the plan covers any), each in the
 * placements' own order; the original placements follow as the failover order. The expected cost of an owned
 * placement is its hours at its rate.
 */
import type { Placement, RankedPlacement } from "@frugal/runner"
import type { OwnedCommitment, OwnedReservation, OwnedSavingsPlan } from "./SchedulerPolicy.ts"

/** What running jobs hold of the owned commitments now. */
export interface CommitmentUse {
  /** Instances in use per reservation key (`type|region`). */
  readonly reservedInstances: ReadonlyMap<string, number>
  /** Savings-plan spend per hour in use, USD. */
  readonly savingsPlanUsdPerHour: number
}

export const reservationKey = (instanceType: string, region: string): string => `${instanceType}|${region}`

const isOnDemand = (placement: Placement) => placement.purchaseOption === "on-demand"

const owned = (ranked: RankedPlacement, purchaseOption: "reserved" | "savings-plan", hourlyPriceUsd: number): RankedPlacement => ({
  ...ranked,
  placement: { ...ranked.placement, purchaseOption, hourlyPriceUsd, interruptionsPerHour: 0 },
  expectedCostUsd: ranked.expectedHours * hourlyPriceUsd * ranked.placement.instanceCount
})

/** What the running jobs' placements hold of the commitments. */
export const commitmentUse = (placements: ReadonlyArray<Placement>): CommitmentUse => {
  const reservedInstances = new Map<string, number>()
  let savingsPlanUsdPerHour = 0
  for (const placement of placements) {
    if (placement.purchaseOption === "reserved") {
      const key = reservationKey(placement.instanceType, placement.region)
      reservedInstances.set(key, (reservedInstances.get(key) ?? 0) + placement.instanceCount)
    } else if (placement.purchaseOption === "savings-plan") {
      savingsPlanUsdPerHour += placement.hourlyPriceUsd * placement.instanceCount
    }
  }
  return { reservedInstances, savingsPlanUsdPerHour }
}

export const fillCommitmentsFirst = (
  placements: ReadonlyArray<RankedPlacement>,
  commitments: ReadonlyArray<OwnedCommitment>,
  use: CommitmentUse
): ReadonlyArray<RankedPlacement> => {
  const reservations = commitments.filter((c): c is OwnedReservation => c.kind === "reserved")
  const plans = commitments.filter((c): c is OwnedSavingsPlan => c.kind === "savings-plan")
  const head: Array<RankedPlacement> = []
  for (const ranked of placements) {
    if (!isOnDemand(ranked.placement)) continue
    const { instanceType, region, instanceCount } = ranked.placement
    const reservation = reservations.find((r) => r.instanceType === instanceType && r.region === region)
    if (reservation === undefined) continue
    const free = reservation.count - (use.reservedInstances.get(reservationKey(instanceType, region)) ?? 0)
    if (instanceCount <= free) head.push(owned(ranked, "reserved", reservation.hourlyPriceUsd))
  }
  const plansFree = plans.reduce((sum, plan) => sum + plan.commitmentUsdPerHour, 0) - use.savingsPlanUsdPerHour
  const discount = plans.reduce((best, plan) => Math.max(best, plan.discount), 0)
  if (plans.length > 0) {
    for (const ranked of placements) {
      if (!isOnDemand(ranked.placement)) continue
      const rate = ranked.placement.hourlyPriceUsd * (1 - discount)
      if (rate * ranked.placement.instanceCount <= plansFree + 1e-9) head.push(owned(ranked, "savings-plan", rate))
    }
  }
  return [...head, ...placements]
}
