import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { InputIssue } from "../src/Errors.ts"
import { decodeWorkloadFile, workloadsOf } from "../src/WorkloadFile.ts"

const decode = (text: string) => Effect.runSync(Effect.result(decodeWorkloadFile(text, "service.yaml")))

const serving = (service: string) => `
name: chat
kind: inference
model: { parameters: 8B }
inference: { tokensPerSecond: 2000 }
service:
${service}
`

const issues = (text: string): ReadonlyArray<InputIssue> => {
  const result = decode(text)
  if (result._tag === "Success") throw new Error(`expected a failure, decoded ${JSON.stringify(result.success)}`)
  return result.failure.issues
}

const issueAt = (all: ReadonlyArray<InputIssue>, path: string): InputIssue => {
  const found = all.find((issue) => issue.path === path)
  if (found === undefined) throw new Error(`no issue at ${path}; got ${JSON.stringify(all)}`)
  return found
}

describe("the service section of an inference workload", () => {
  it("decodes the architecture document's example and fills the documented defaults", () => {
    const result = decode(serving(`  replicas: { min: 2, max: 40 }
  target: { requestsInFlightPerReplica: 8 }`))
    if (result._tag === "Failure") throw new Error(result.failure.message)
    const [workload] = workloadsOf(result.success)
    if (workload?.kind !== "inference" || workload.service === undefined) throw new Error("expected a service")
    assert.deepStrictEqual(workload.service, {
      replicas: { min: 2, max: 40 },
      target: { requestsInFlightPerReplica: 8 },
      scaleInBelowGpuUtilization: 0.3,
      scaleInWindowMinutes: 15,
      scaleUpDelaySeconds: 60,
      scaleDownDelaySeconds: 600,
      coldStartSeconds: 300,
      zones: { min: 2 },
      onDemandBase: 1,
      spot: false
    })
  })

  it("accepts several targets at once", () => {
    const result = decode(serving(`  replicas: { min: 1, max: 4 }
  target: { requestsInFlightPerReplica: 8, requestsPerSecondPerReplica: 2, queueDepthPerReplica: 4 }
  spot: true`))
    if (result._tag === "Failure") throw new Error(result.failure.message)
    const [workload] = workloadsOf(result.success)
    if (workload?.kind !== "inference") throw new Error("expected inference")
    assert.deepStrictEqual(workload.service?.target, { requestsInFlightPerReplica: 8, requestsPerSecondPerReplica: 2, queueDepthPerReplica: 4 })
    assert.strictEqual(workload.service?.spot, true)
  })

  it("rejects min above max at replicas.min, showing the value", () => {
    const issue = issueAt(issues(serving(`  replicas: { min: 5, max: 4 }
  target: { requestsInFlightPerReplica: 8 }`)), "service.replicas.min")
    assert.strictEqual(issue.expected, "at most replicas.max (4)")
    assert.strictEqual(issue.actual, "5")
  })

  it("rejects a target of 0 naming the target", () => {
    const issue = issueAt(issues(serving(`  replicas: { min: 1, max: 4 }
  target: { requestsPerSecondPerReplica: 0 }`)), "service.target.requestsPerSecondPerReplica")
    assert.match(issue.expected, /greater than 0/)
  })

  it("rejects a target section without any target", () => {
    const issue = issueAt(issues(serving(`  replicas: { min: 1, max: 4 }
  target: {}`)), "service.target")
    assert.match(issue.expected, /requestsInFlightPerReplica/)
  })

  it("rejects an on-demand base above max, a utilisation above 1 and zones.min of 0", () => {
    const all = issues(serving(`  replicas: { min: 1, max: 4 }
  target: { queueDepthPerReplica: 2 }
  onDemandBase: 5`))
    assert.strictEqual(issueAt(all, "service.onDemandBase").expected, "at most replicas.max (4)")
    const more = issues(serving(`  replicas: { min: 1, max: 4 }
  target: { queueDepthPerReplica: 2 }
  scaleInBelowGpuUtilization: 1.5
  zones: { min: 0 }`))
    issueAt(more, "service.scaleInBelowGpuUtilization")
    issueAt(more, "service.zones.min")
  })

  it("is unknown to training workloads (a typo guard, not a silent no-op)", () => {
    const all = issues(`
name: t
kind: training
model: { parameters: 7B }
training: { tokens: 1B }
service: { replicas: { min: 1, max: 2 }, target: { queueDepthPerReplica: 1 } }
`)
    issueAt(all, "service")
  })
})
