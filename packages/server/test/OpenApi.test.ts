import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import packageJson from "../../cli/package.json" with { type: "json" }
import { openApiText } from "../src/Serve.ts"

const committed = fileURLToPath(new URL("../../../docs/openapi.json", import.meta.url))

/** Every `$ref` in the document, with where it points. */
const refs = (value: unknown): Array<string> =>
  Array.isArray(value)
    ? value.flatMap(refs)
    : typeof value === "object" && value !== null
    ? Object.entries(value).flatMap(([key, inner]) => (key === "$ref" && typeof inner === "string" ? [inner] : refs(inner)))
    : []

describe("the OpenAPI document", () => {
  it("is current in docs/openapi.json (run scripts/generate-openapi.ts)", () => {
    expect(readFileSync(committed, "utf8")).toBe(openApiText(packageJson.version))
  })

  it("describes every route with its Schemas, and every reference resolves", () => {
    const document = JSON.parse(openApiText("test"))
    expect(Object.keys(document.paths)).toEqual([
      "/healthz",
      "/api/v1/jobs",
      "/api/v1/jobs/{id}",
      "/api/v1/jobs/{id}/cancel",
      "/api/v1/budgets",
      "/api/v1/openapi.json"
    ])
    expect(Object.keys(document.paths["/api/v1/jobs"])).toEqual(["post", "get"])
    expect(document.paths["/api/v1/jobs"].post.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/SubmitRequest" })
    expect(Object.keys(document.paths["/api/v1/jobs"].post.responses).sort()).toEqual(["201", "400", "401", "413", "422"])
    expect(document.paths["/healthz"].get.security).toEqual([])
    expect(document.paths["/api/v1/budgets"].get.security).toEqual([{ bearer: [] }])
    for (const ref of refs(document)) {
      const name = ref.replace("#/components/schemas/", "")
      expect(document.components.schemas[name], ref).toBeDefined()
    }
    const submit = document.components.schemas.SubmitRequest
    expect(submit.required).toEqual(["workload"])
    expect(submit.properties.priority).toMatchObject({ type: "integer", minimum: -1000, maximum: 1000 })
    expect(document.components.schemas.JobSummary.properties.state.enum).toEqual(["queued", "running", "completed", "failed", "cancelled"])
  })
})
