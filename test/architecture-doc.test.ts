/**
 * docs/architecture.md's package graph is the one the sources have: regenerated from the imports and compared, and
 * the imports themselves checked against what each package declares and against cycles.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { ARCHITECTURE_DOC, packageEdges, renderPackageGraph, withPackageGraph, workspacePackages } from "../scripts/package-graph.ts"

const packagesDirectory = fileURLToPath(new URL("../packages/", import.meta.url))

describe("docs/architecture.md", () => {
  it("shows the package graph the imports have (node scripts/package-graph.ts regenerates it)", () => {
    const document = readFileSync(ARCHITECTURE_DOC, "utf8")
    expect(document).toBe(withPackageGraph(document, renderPackageGraph()))
  })

  it("names only packages each package declares as a dependency", () => {
    for (const name of workspacePackages()) {
      const manifest: { readonly dependencies?: Record<string, string> } = JSON.parse(readFileSync(join(packagesDirectory, name, "package.json"), "utf8"))
      const declared = Object.keys(manifest.dependencies ?? {})
      const imported = packageEdges().filter((edge) => edge.from === name).map((edge) => `@frugal/${edge.to}`)
      expect(imported.filter((dependency) => !declared.includes(dependency)), name).toEqual([])
    }
  })

  it("has no cycle: every package can be built before those that import it", () => {
    const edges = packageEdges()
    const remaining = new Set(workspacePackages())
    while (remaining.size > 0) {
      const leaf = [...remaining].find((name) => !edges.some((edge) => edge.from === name && remaining.has(edge.to)))
      expect(leaf, `a cycle among ${[...remaining].join(", ")}`).toBeDefined()
      if (leaf === undefined) return
      remaining.delete(leaf)
    }
  })
})
