import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { InvalidInput, LocalFailure, NoFeasiblePlacement, PartialFailure, RemoteServiceFailure } from "@frugal/core"
import { JobLeased, JobNotFound, LeaseLost, LedgerError, WorkloadMismatch } from "@frugal/runner"
import { debugEnabled, ExitCode, FleetInfeasible, outcomeOfExit } from "../src/ExitCode.ts"

const infeasible = (workload: string) =>
  new NoFeasiblePlacement({ workload, constraint: "constraints.deadlineHours", detail: "the fastest option takes 310 h against a 24 h deadline" })

describe("outcomeOfExit", () => {
  it("exits 0 and prints nothing on success", () => {
    expect(outcomeOfExit(Exit.succeed(undefined), false)).toEqual({ code: 0, stderr: [] })
  })

  it("exits 2 for invalid input, one line per issue naming its field", () => {
    const error = new InvalidInput({
      source: "spec.yaml",
      issues: [
        { path: "model.parameters", expected: "a number of parameters like 7B", actual: "\"lots\"" },
        { path: "name", expected: "a name of lowercase letters" }
      ]
    })
    const outcome = outcomeOfExit(Exit.fail(error), false)
    expect(outcome.code).toBe(ExitCode.invalidInput)
    expect(outcome.stderr).toEqual([
      "error: invalid input in spec.yaml:",
      "  model.parameters: expected a number of parameters like 7B, got \"lots\"",
      "  name: expected a name of lowercase letters, but it is missing"
    ])
  })

  it("exits 2 naming an unknown job, as a mistake in the input rather than a bug", () => {
    expect(outcomeOfExit(Exit.fail(new JobNotFound({ jobId: "tiny-train-2026" })), false)).toEqual({
      code: ExitCode.invalidInput,
      stderr: ["error: no job tiny-train-2026 in the ledger (frugal status lists the jobs)"]
    })
  })

  it("exits 3 naming the binding constraint when nothing is feasible", () => {
    const outcome = outcomeOfExit(Exit.fail(infeasible("big-job")), false)
    expect(outcome.code).toBe(ExitCode.noFeasiblePlacement)
    expect(outcome.stderr.join("\n")).toContain("big-job: no feasible placement: constraints.deadlineHours")
  })

  it("exits 3 with one line per infeasible workload of a fleet", () => {
    const outcome = outcomeOfExit(Exit.fail(new FleetInfeasible({ failures: [infeasible("a"), infeasible("b")] })), false)
    expect(outcome.code).toBe(3)
    expect(outcome.stderr).toHaveLength(2)
    expect(outcome.stderr[1]).toContain("b: no feasible placement")
  })

  it("exits 1 for a local failure, with its message and without calling it a bug", () => {
    const error = new LocalFailure({ operation: "write /reports/week.html", detail: "no space left on device (ENOSPC)" })
    expect(outcomeOfExit(Exit.fail(error), false)).toEqual({
      code: 1,
      stderr: ["error: cannot write /reports/week.html: no space left on device (ENOSPC)"]
    })
  })

  it("exits 5 for a partial result, one line per part that could not be had", () => {
    const error = new PartialFailure({
      subject: "the report",
      missing: [
        { service: "AWS Cost Explorer", operation: "GetReservationUtilization", detail: "AccessDeniedException: no ce:GetReservationUtilization" },
        { service: "AWS CloudWatch", operation: "GetMetricData", detail: "TimeoutError: no answer within 2 s" }
      ]
    })
    expect(outcomeOfExit(Exit.fail(error), false)).toEqual({
      code: 5,
      stderr: [
        "error: the report is partial: AWS Cost Explorer GetReservationUtilization: AccessDeniedException: no ce:GetReservationUtilization",
        "error: the report is partial: AWS CloudWatch GetMetricData: TimeoutError: no answer within 2 s"
      ]
    })
  })

  it("exits 2 for a job another process runs, naming the holder, and for another workload under a job's id", () => {
    const leased = new JobLeased({
      jobId: "dup",
      holderPid: 4242,
      holderHost: "box-1",
      holderLabel: "frugal run",
      acquiredAtMillis: 0,
      heartbeatAtMillis: 10_000,
      expiresAtMillis: 55_000,
      checkedAtMillis: 13_000
    })
    const refused = outcomeOfExit(Exit.fail(leased), false)
    expect(refused.code).toBe(ExitCode.invalidInput)
    expect(refused.stderr[0]).toBe(
      "error: job dup is already being run by pid 4242 on box-1 (frugal run, since 1970-01-01T00:00:00Z, last heartbeat 3 s ago); nothing was started."
    )
    expect(refused.stderr.at(-1)).toContain("its lease expires at 1970-01-01T00:00:55Z")
    const mismatch = new WorkloadMismatch({ jobId: "w", differences: [{ path: "model.hiddenSize", job: "64", given: "128" }] })
    const other = outcomeOfExit(Exit.fail(mismatch), false)
    expect(other.code).toBe(ExitCode.invalidInput)
    expect(other.stderr).toContain("  model.hiddenSize: the job has 64, this workload has 128")
  })

  it("exits 1 without calling it a bug for a lost lease and a full or damaged ledger, saying what to do", () => {
    const lost = outcomeOfExit(Exit.fail(new LeaseLost({ jobId: "j", detail: "taken over by pid 7 on box-2 (frugal run)" })), false)
    expect(lost.code).toBe(1)
    expect(lost.stderr.join("\n")).not.toContain("bug")
    const full = outcomeOfExit(Exit.fail(new LedgerError({ path: "/h/ledger.sqlite", operation: "recordEvent", detail: "database or disk is full", reason: "disk-full" })), false)
    expect(full.code).toBe(1)
    expect(full.stderr).toEqual([
      "error: ledger /h/ledger.sqlite: recordEvent failed: database or disk is full",
      "the disk holding /h is full; the write was rolled back whole. Free space, then continue the job with frugal run --resume JOB (frugal status lists the jobs)"
    ])
  })

  it("exits 4 when a remote service failed after retries", () => {
    const error = new RemoteServiceFailure({ service: "AWS Pricing", operation: "GetProducts", region: "us-east-1", detail: "throttled 5 times" })
    expect(outcomeOfExit(Exit.fail(error), false)).toEqual({
      code: 4,
      stderr: ["error: AWS Pricing GetProducts in us-east-1 failed: throttled 5 times"]
    })
  })

  it("exits 1 for a defect, with a message but no stack trace", () => {
    const outcome = outcomeOfExit(Exit.die(new TypeError("cannot read x of undefined")), false)
    expect(outcome.code).toBe(ExitCode.bug)
    expect(outcome.stderr.join("\n")).toContain("cannot read x of undefined")
    expect(outcome.stderr.join("\n")).not.toMatch(/^\s+at\s/m)
  })

  it("adds the full cause, stack included, only when debugging", () => {
    const exit = Exit.die(new TypeError("boom"))
    const outcome = outcomeOfExit(exit, true)
    expect(outcome.code).toBe(1)
    expect(outcome.stderr.join("\n")).toMatch(/^\s+at\s/m)
  })

  it("prefers the user's mistake over a defect raised alongside it", () => {
    const error = new InvalidInput({ source: "x.yaml", issues: [{ path: "kind", expected: "training, inference or batch" }] })
    const exit = Exit.failCause(Cause.combine(Cause.die(new Error("cleanup failed")), Cause.fail(error)))
    expect(outcomeOfExit(exit, false).code).toBe(2)
  })

  it("exits 130 when interrupted (Ctrl-C)", () => {
    expect(outcomeOfExit(Exit.failCause(Cause.interrupt(1)), false).code).toBe(130)
  })
})

describe("debugEnabled", () => {
  it("is on for FRUGAL_DEBUG=1 or true and off otherwise", () => {
    expect(debugEnabled({ FRUGAL_DEBUG: "1" })).toBe(true)
    expect(debugEnabled({ FRUGAL_DEBUG: "true" })).toBe(true)
    expect(debugEnabled({ FRUGAL_DEBUG: "0" })).toBe(false)
    expect(debugEnabled({})).toBe(false)
  })
})
