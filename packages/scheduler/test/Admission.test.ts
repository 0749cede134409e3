import { describe, expect, it } from "vitest"
import { admissionPass, type QueuedWork, type RunningWork } from "../src/Admission.ts"
import { deadlineSlackHours, effectivePriority, orderQueue } from "../src/QueueOrder.ts"
import type { SchedulerPolicy } from "../src/SchedulerPolicy.ts"

const HOUR = 3_600_000
const NOW = 100 * HOUR

const policy: SchedulerPolicy = {
  teams: [
    { name: "a", monthlyBudgetUsd: 100, maxGpus: 8 },
    { name: "b", monthlyBudgetUsd: 50, maxGpus: 8 }
  ],
  maxGpus: 12,
  agingPointsPerHour: 1,
  preemption: { enabled: true, minPriorityGap: 10 },
  commitments: []
}

const queued = (id: string, fields: Partial<QueuedWork> = {}): QueuedWork => ({
  id,
  team: "a",
  priority: 0,
  submittedAtMillis: NOW,
  deadlineHours: null,
  expectedHours: 1,
  gpus: 1,
  expectedCostUsd: 10,
  quotaUse: [],
  ...fields
})

const running = (id: string, fields: Partial<RunningWork> = {}): RunningWork => ({
  id,
  team: "a",
  priority: 0,
  gpus: 1,
  startedAtMillis: NOW - HOUR,
  preemptible: false,
  preempting: false,
  expectedCostUsd: 10,
  costUsd: 0,
  quotaUse: [],
  ...fields
})

const pass = (input: { queued: ReadonlyArray<QueuedWork>; running?: ReadonlyArray<RunningWork>; spent?: Record<string, number>; p?: SchedulerPolicy }) =>
  admissionPass({
    policy: input.p ?? policy,
    queued: input.queued,
    running: input.running ?? [],
    spentUsd: new Map(Object.entries(input.spent ?? {})),
    quotas: [],
    nowMillis: NOW
  })

const reasons = (decision: ReturnType<typeof admissionPass>) => Object.fromEntries(decision.wait.map((w) => [w.jobId, w.reason]))

describe("queue order", () => {
  it("ranks by priority, and a waiting job gains one whole point per hour waited", () => {
    const old = queued("old", { priority: 0, submittedAtMillis: NOW - 5.5 * HOUR })
    const fresh = queued("fresh", { priority: 5 })
    expect(effectivePriority(old, NOW, 1)).toBe(5)
    expect(effectivePriority(old, NOW, 2)).toBe(11)
    // Equal effective priority (5): the older submission goes first.
    expect(orderQueue([fresh, old], NOW, 1).map((j) => j.id)).toEqual(["old", "fresh"])
    expect(orderQueue([fresh, old], NOW, 0).map((j) => j.id)).toEqual(["fresh", "old"])
  })

  it("orders equal priorities by deadline slack: deadline − waited − expected hours, least first; no deadline last", () => {
    const relaxed = queued("relaxed", { deadlineHours: 48, expectedHours: 10, submittedAtMillis: NOW - 2 * HOUR })
    const tight = queued("tight", { deadlineHours: 20, expectedHours: 12 })
    const none = queued("none", { submittedAtMillis: NOW - 0.5 * HOUR })
    expect(deadlineSlackHours(relaxed, NOW)).toBe(36)
    expect(deadlineSlackHours(tight, NOW)).toBe(8)
    expect(deadlineSlackHours(none, NOW)).toBe(Number.POSITIVE_INFINITY)
    expect(orderQueue([none, relaxed, tight], NOW, 0).map((j) => j.id)).toEqual(["tight", "relaxed", "none"])
  })
})

describe("admission", () => {
  it("admits one of a team's jobs when its budget holds one at a time; the rest wait for budget while another team runs", () => {
    const decision = pass({
      queued: [queued("a1", { expectedCostUsd: 60 }), queued("a2", { expectedCostUsd: 60 }), queued("b1", { team: "b", expectedCostUsd: 40 })]
    })
    expect(decision.admit).toEqual(["a1", "b1"])
    expect(reasons(decision)).toEqual({ a2: "budget" })
    expect(decision.wait[0]?.detail).toContain("$40.00 of its $100.00 monthly budget left")
  })

  it("counts spend this month and what running jobs still reserve (expected − accrued), releasing it as cost accrues", () => {
    // Spent 30; a running job expected at 50 has accrued 20, so it still reserves 30: 30 + 30 + 40 = 100 fits exactly.
    const fits = pass({ queued: [queued("next", { expectedCostUsd: 40 })], running: [running("r", { expectedCostUsd: 50, costUsd: 20 })], spent: { a: 30 } })
    expect(fits.admit).toEqual(["next"])
    const over = pass({ queued: [queued("next", { expectedCostUsd: 40.01 })], running: [running("r", { expectedCostUsd: 50, costUsd: 20 })], spent: { a: 30 } })
    expect(reasons(over)).toEqual({ next: "budget" })
    // A job that overran its expected cost reserves nothing more; its spend is already in `spent`.
    const overran = pass({ queued: [queued("next", { expectedCostUsd: 40 })], running: [running("r", { expectedCostUsd: 50, costUsd: 70 })], spent: { a: 60 } })
    expect(overran.admit).toEqual(["next"])
  })

  it("lets a higher-priority job overtake earlier, lower ones for the last GPUs", () => {
    const decision = pass({
      queued: [queued("low1", { gpus: 4, submittedAtMillis: NOW - 0.2 * HOUR }), queued("low2", { gpus: 4, submittedAtMillis: NOW - 0.1 * HOUR }), queued("high", { gpus: 4, priority: 5 })],
      running: [running("r", { gpus: 4 })]
    })
    expect(decision.admit).toEqual(["high"])
    expect(reasons(decision)).toEqual({ low1: "gpus", low2: "priority" })
  })

  it("holds the team's GPUs for the first job that waits for them, so smaller later jobs do not starve it", () => {
    const decision = pass({
      queued: [queued("big", { gpus: 6, priority: 3 }), queued("small", { gpus: 1 }), queued("cpu", { gpus: 0 }), queued("b-small", { team: "b", gpus: 1 })],
      running: [running("r", { gpus: 4 })]
    })
    expect(decision.admit).toEqual(["b-small", "cpu"])
    expect(reasons(decision)).toEqual({ big: "gpus", small: "priority" })
  })

  it("lets aging carry a low-priority job past newer high-priority ones", () => {
    const newHigh = queued("new-high", { gpus: 8, priority: 10 })
    // One point per hour: after 8 hours a priority-0 job ranks 8, still below 10; after 12 hours, 12.
    expect(pass({ queued: [queued("low", { gpus: 8, submittedAtMillis: NOW - 8 * HOUR }), newHigh] }).admit).toEqual(["new-high"])
    expect(pass({ queued: [queued("low", { gpus: 8, submittedAtMillis: NOW - 12 * HOUR }), newHigh] }).admit).toEqual(["low"])
    // Without aging it would wait behind every newer high-priority job for ever.
    const noAging = { ...policy, agingPointsPerHour: 0 }
    expect(pass({ queued: [queued("low", { gpus: 8, submittedAtMillis: NOW - 1000 * HOUR }), newHigh], p: noAging }).admit).toEqual(["new-high"])
  })

  it("keeps every GPU within the global limit across teams", () => {
    const decision = pass({
      queued: [queued("a1", { gpus: 4 }), queued("b1", { team: "b", gpus: 4, submittedAtMillis: NOW + 1 }), queued("b2", { team: "b", gpus: 1, submittedAtMillis: NOW + 2 })],
      running: [running("ra", { gpus: 4 }), running("rb", { team: "b", gpus: 4 })]
    })
    expect(decision.admit).toEqual(["a1"])
    expect(reasons(decision)).toEqual({ b1: "gpus", b2: "priority" })
    expect(decision.wait[0]?.detail).toContain("12 of the 12 GPUs are in use")
  })

  it("never admits a job larger than its team's limit, and says so without holding others back", () => {
    const decision = pass({ queued: [queued("huge", { gpus: 9, priority: 9 }), queued("ok", { gpus: 2 })] })
    expect(decision.admit).toEqual(["ok"])
    expect(decision.wait).toEqual([{ jobId: "huge", reason: "gpus", detail: "needs 9 GPUs, more than the team's limit of 8" }])
  })

  it("holds account quotas: a job over the vCPU quota waits with reason quota", () => {
    const decision = admissionPass({
      policy,
      queued: [queued("q1", { quotaUse: [{ key: "us-east-1/L-G", amount: 96 }] }), queued("q2", { quotaUse: [{ key: "us-east-1/L-G", amount: 8 }], submittedAtMillis: NOW + 1 })],
      running: [running("r", { quotaUse: [{ key: "us-east-1/L-G", amount: 96 }] })],
      spentUsd: new Map(),
      quotas: [{ key: "us-east-1/L-G", limit: 128 }],
      nowMillis: NOW
    })
    expect(decision.admit).toEqual([])
    expect(reasons(decision)).toEqual({ q1: "quota", q2: "priority" })
  })
})

describe("preemption", () => {
  it("preempts the lowest-priority, most recently started spot jobs of the team, only as many as needed", () => {
    const fitting = pass({
      queued: [queued("urgent", { gpus: 4, priority: 20 })],
      running: [
        running("od", { gpus: 2, preemptible: false }),
        running("spot-old", { gpus: 2, preemptible: true, startedAtMillis: NOW - 3 * HOUR }),
        running("spot-new", { gpus: 2, preemptible: true, startedAtMillis: NOW - HOUR }),
        running("spot-close", { gpus: 2, priority: 15, preemptible: true })
      ]
    })
    // 8 of 8 in use, 4 needed: the two priority-0 spot jobs, youngest first; the priority-15 one is within the gap.
    expect(fitting.preempt.map((p) => p.jobId)).toEqual(["spot-new", "spot-old"])
    expect(fitting.admit).toEqual([])
    expect(reasons(fitting)).toEqual({ urgent: "gpus" })
  })

  it("preempts nothing when the candidates cannot free enough, for a budget wait, or below the priority gap", () => {
    const short = pass({ queued: [queued("urgent", { gpus: 8, priority: 20 })], running: [running("s", { gpus: 2, preemptible: true }), running("o", { gpus: 6 })] })
    expect(short.preempt).toEqual([])
    const budget = pass({ queued: [queued("rich", { gpus: 8, priority: 20, expectedCostUsd: 500 })], running: [running("s", { gpus: 8, preemptible: true })] })
    expect(budget.preempt).toEqual([])
    const gap = pass({ queued: [queued("near", { gpus: 8, priority: 9 })], running: [running("s", { gpus: 8, preemptible: true })] })
    expect(gap.preempt).toEqual([])
  })

  it("frees GPUs of other teams for the global limit and does not preempt twice while they stop", () => {
    const first = pass({ queued: [queued("urgent", { gpus: 4, priority: 30 })], running: [running("a-od", { gpus: 4 }), running("b-spot", { team: "b", gpus: 8, preemptible: true })] })
    expect(first.preempt).toEqual([{ jobId: "b-spot", forJobId: "urgent", detail: expect.stringContaining("12 of the 12 GPUs are in use") }])
    const stopping = pass({
      queued: [queued("urgent", { gpus: 4, priority: 30 })],
      running: [running("a-od", { gpus: 4 }), running("b-spot", { team: "b", gpus: 8, preemptible: true, preempting: true })]
    })
    expect(stopping.preempt).toEqual([])
    expect(stopping.wait[0]?.detail).toContain("waiting for preempted jobs to checkpoint and stop")
  })

  it("does not preempt when preemption is off", () => {
    const off = pass({
      queued: [queued("urgent", { gpus: 4, priority: 30 })],
      running: [running("s", { gpus: 8, preemptible: true })],
      p: { ...policy, preemption: { enabled: false, minPriorityGap: 10 } }
    })
    expect(off.preempt).toEqual([])
  })
})
