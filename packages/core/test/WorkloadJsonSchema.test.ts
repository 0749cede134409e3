import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { workloadJsonSchema, workloadJsonSchemaText } from "../src/WorkloadJsonSchema.ts"

const committed = fileURLToPath(new URL("../../../docs/workload.schema.json", import.meta.url))

describe("Workload JSON Schema", () => {
  it("is current: docs/workload.schema.json equals what the generator produces (run scripts/generate-workload-schema.ts)", () => {
    assert.strictEqual(readFileSync(committed, "utf8"), workloadJsonSchemaText())
  })

  it("is marked as generated and describes every workload kind and the fleet form", () => {
    const schema = workloadJsonSchema()
    assert.include(String(schema.$comment), "GENERATED")
    const text = JSON.stringify(schema)
    for (const name of ["TrainingWorkload", "InferenceWorkload", "BatchWorkload", "workloads", "deadlineHours", "checkpointDir"]) {
      assert.include(text, name)
    }
    assert.include(text, `"additionalProperties":false`)
  })

  it("is byte-stable", () => {
    assert.strictEqual(workloadJsonSchemaText(), workloadJsonSchemaText())
  })
})
