/**
 * The top-k accumulator of the enumeration: the best `limit` candidates seen so far, kept sorted by
 * `compareCandidates`. Once it is full and its last entry is feasible it is *closed*: a placement that cannot beat
 * that last entry can be skipped without building it.
 */
import { type Candidate, compareCandidates, isFeasible, rankTier } from "./Candidate.ts"

export class TopCandidates {
  private readonly items: Array<Candidate> = []
  readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  /** Ranked, best first. */
  get ranked(): ReadonlyArray<Candidate> {
    return this.items
  }

  get first(): Candidate | undefined {
    return this.items[0]
  }

  get last(): Candidate | undefined {
    return this.items[this.items.length - 1]
  }

  /** The best so far meets every constraint. */
  get hasFeasible(): boolean {
    const first = this.first
    return first !== undefined && isFeasible(first)
  }

  /** Full, and even its last entry meets every constraint (and is not a thin-saving spot, which ranks later). */
  get closed(): boolean {
    const last = this.last
    return this.items.length >= this.limit && last !== undefined && rankTier(last) === 0
  }

  /** Inserts in rank order, dropping whatever falls off the end. */
  insert(candidate: Candidate): void {
    const last = this.last
    if (this.items.length >= this.limit && last !== undefined && compareCandidates(candidate, last) >= 0) return
    let lo = 0
    let hi = this.items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const other = this.items[mid]
      if (other !== undefined && compareCandidates(other, candidate) <= 0) lo = mid + 1
      else hi = mid
    }
    this.items.splice(lo, 0, candidate)
    if (this.items.length > this.limit) this.items.pop()
  }
}
