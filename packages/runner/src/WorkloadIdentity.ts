/**
 * A job's workload is part of its identity: the ledger keeps the canonical JSON of the workload a job was created
 * from and its sha256, and another workload may not continue that job id (it would resume the old model's
 * checkpoints, or report "completed" for work that never ran). Canonical: the decoded workload (defaults filled,
 * `7B` read as 7000000000) with object keys sorted, so YAML or JSON, key order and spelling of numbers do not
 * matter, while every setting does. Pure.
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"
import type { Workload } from "@frugal/core"

export interface WorkloadIdentity {
  readonly sha256: string
  readonly json: string
}

export interface WorkloadDifference {
  /** Field path, as in validation errors: `model.hiddenSize`, `resources.accelerators[0]`. */
  readonly path: string
  /** The value in the job's workload, as JSON, or `(absent)`. */
  readonly job: string
  /** The value in the workload given now. */
  readonly given: string
}

/** A workload other than the job's asked to continue it. Exit code 2. */
export class WorkloadMismatch extends Schema.TaggedError<WorkloadMismatch>()("WorkloadMismatch", {
  jobId: Schema.String,
  differences: Schema.Array(Schema.Struct({ path: Schema.String, job: Schema.String, given: Schema.String }))
}) {
  override get message(): string {
    const shown = this.differences.slice(0, MAX_SHOWN)
    return [
      `job ${this.jobId} was created from another workload; refusing to continue it with this one, which differs in:`,
      ...shown.map((d) => `  ${d.path}: the job has ${d.job}, this workload has ${d.given}`),
      ...(this.differences.length > shown.length ? [`  … and ${this.differences.length - shown.length} more`] : []),
      `Run this workload under another --job-id (or without one: a new id is made), or continue the job with its own workload: frugal run --resume ${this.jobId}`
    ].join("\n")
  }
}

const MAX_SHOWN = 20
const MAX_VALUE_CHARS = 60

/** JSON with every object's keys sorted and undefined members left out: equal values give equal text. */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== "object" || value === null) return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const member: unknown = Reflect.get(value, key)
    if (member !== undefined) sorted[key] = sortKeys(member)
  }
  return sorted
}

export const workloadIdentity = (workload: Workload): WorkloadIdentity => {
  const json = canonicalJson(workload)
  return { sha256: createHash("sha256").update(json).digest("hex"), json }
}

/** Every leaf where the two canonical JSON texts differ, in document order. */
export const workloadDifferences = (jobJson: string, givenJson: string): ReadonlyArray<WorkloadDifference> => {
  const found: Array<WorkloadDifference> = []
  compare(parseOrText(jobJson), parseOrText(givenJson), "", found)
  return found
}

const ABSENT = Symbol("absent")

const compare = (job: unknown, given: unknown, path: string, found: Array<WorkloadDifference>): void => {
  if (isRecord(job) && isRecord(given)) {
    const keys = [...new Set([...Object.keys(job), ...Object.keys(given)])].sort()
    for (const key of keys) {
      compare(key in job ? job[key] : ABSENT, key in given ? given[key] : ABSENT, path === "" ? key : `${path}.${key}`, found)
    }
    return
  }
  if (Array.isArray(job) && Array.isArray(given)) {
    for (let i = 0; i < Math.max(job.length, given.length); i++) {
      compare(i < job.length ? job[i] : ABSENT, i < given.length ? given[i] : ABSENT, `${path}[${i}]`, found)
    }
    return
  }
  if (canonicalJson(job) !== canonicalJson(given)) found.push({ path: path === "" ? "(workload)" : path, job: shown(job), given: shown(given) })
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const shown = (value: unknown): string => {
  if (value === ABSENT) return "(absent)"
  const text = JSON.stringify(value) ?? String(value)
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text
}

const parseOrText = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
