/**
 * Why the sum of findings never exceeds the spend: every finding's dollars are claimed from a pool of
 * what was actually paid (per instance type and purchase option, plus one pool for data transfer),
 * and a pool gives out at most what is left in it. A finding about cheaper alternatives (spot,
 * commitments, smaller GPUs) claims the instance-hours it re-prices, so the same hour is never saved
 * twice; its dollars are only the difference in price, which is less than the hours' cost.
 * Finding rules run in their precedence order (`FINDING_RULES`), so the earlier rule wins an hour.
 */
import type { PurchaseOption } from "@frugal/core"
import type { ComputeSpend } from "./CostData.ts"

interface Pool {
  costUsd: number
  hours: number
}

/** Order in which an instance type's pools are drawn when a finding is not tied to a purchase option. */
const DRAW_ORDER: ReadonlyArray<PurchaseOption> = ["on-demand", "spot", "savings-plan", "reserved"]

export interface Granted {
  readonly hours: number
  readonly costUsd: number
}

export class SpendPools {
  readonly #pools = new Map<string, Pool>()
  #transferUsd: number

  constructor(compute: ReadonlyArray<ComputeSpend>, transferUsd: number) {
    for (const row of compute) {
      const key = keyOf(row.instanceType, row.purchaseOption)
      const pool = this.#pools.get(key) ?? { costUsd: 0, hours: 0 }
      pool.costUsd += row.costUsd
      pool.hours += row.usageHours
      this.#pools.set(key, pool)
    }
    this.#transferUsd = transferUsd
  }

  remaining(instanceType: string, option: PurchaseOption): Granted {
    const pool = this.#pools.get(keyOf(instanceType, option))
    return pool === undefined ? { hours: 0, costUsd: 0 } : { hours: pool.hours, costUsd: pool.costUsd }
  }

  /** Price per hour still in a pool (its average), 0 when empty. */
  rate(instanceType: string, option: PurchaseOption): number {
    const pool = this.#pools.get(keyOf(instanceType, option))
    return pool === undefined || pool.hours <= 0 ? 0 : pool.costUsd / pool.hours
  }

  /** Claims up to `hours` from one pool at its average rate. */
  claimHours(instanceType: string, option: PurchaseOption, hours: number): Granted {
    const pool = this.#pools.get(keyOf(instanceType, option))
    if (pool === undefined || pool.hours <= 0 || hours <= 0) return { hours: 0, costUsd: 0 }
    const granted = Math.min(hours, pool.hours)
    const costUsd = pool.costUsd * (granted / pool.hours)
    pool.hours -= granted
    pool.costUsd -= costUsd
    return { hours: granted, costUsd }
  }

  /** Claims up to `costUsd` dollars (and the hours they paid for) from one pool. */
  claimDollars(instanceType: string, option: PurchaseOption, costUsd: number): Granted {
    const pool = this.#pools.get(keyOf(instanceType, option))
    if (pool === undefined || pool.costUsd <= 0 || costUsd <= 0) return { hours: 0, costUsd: 0 }
    const granted = Math.min(costUsd, pool.costUsd)
    const hours = pool.hours * (granted / pool.costUsd)
    pool.hours -= hours
    pool.costUsd -= granted
    return { hours, costUsd: granted }
  }

  /** Claims dollars from an instance type's pools in `DRAW_ORDER`. */
  claimDollarsAnyOption(instanceType: string, costUsd: number): Granted {
    let hours = 0
    let granted = 0
    for (const option of DRAW_ORDER) {
      const part = this.claimDollars(instanceType, option, costUsd - granted)
      hours += part.hours
      granted += part.costUsd
    }
    return { hours, costUsd: granted }
  }

  /** Claims dollars from every instance type's pools of one purchase option, `prefer`red type first. */
  claimDollarsOfOption(option: PurchaseOption, costUsd: number, prefer: string | null): Granted {
    let hours = 0
    let granted = 0
    const types = [...this.#pools.keys()].filter((key) => key.endsWith(`|${option}`)).map((key) => key.split("|")[0] ?? "")
    const ordered = prefer === null ? types : [prefer, ...types.filter((type) => type !== prefer)]
    for (const type of ordered) {
      const part = this.claimDollars(type, option, costUsd - granted)
      hours += part.hours
      granted += part.costUsd
    }
    return { hours, costUsd: granted }
  }

  claimTransfer(costUsd: number): number {
    const granted = Math.max(0, Math.min(costUsd, this.#transferUsd))
    this.#transferUsd -= granted
    return granted
  }
}

const keyOf = (instanceType: string, option: PurchaseOption): string => `${instanceType}|${option}`
