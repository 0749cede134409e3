/**
 * The published packages' manifests agree with their sources: `publishConfig.exports` (what an installed package
 * resolves) has one entry per workspace export, pointing at the compiled file and its declarations; `dist/` ships;
 * and `engines` never promises an older Node than a Frugal package it depends on needs.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const packagesDirectory = fileURLToPath(new URL("../packages/", import.meta.url))

interface Manifest {
  readonly name: string
  readonly private?: boolean
  readonly exports: Readonly<Record<string, string | null>>
  readonly publishConfig?: { readonly exports?: Readonly<Record<string, { readonly types: string; readonly import: string } | null>> }
  readonly files?: ReadonlyArray<string>
  readonly engines?: { readonly node?: string }
  readonly dependencies?: Readonly<Record<string, string>>
}

const manifests: ReadonlyArray<Manifest> = readdirSync(packagesDirectory)
  .filter((name) => name !== "cli")
  .map((name) => JSON.parse(readFileSync(join(packagesDirectory, name, "package.json"), "utf8")))

const minimum = (range: string | undefined): ReadonlyArray<number> => (/^>=(\d+)\.(\d+)\.(\d+)$/.exec(range ?? "")?.slice(1) ?? []).map(Number)
const atLeast = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0)
  return true
}

describe("published package manifests", () => {
  it.each(manifests.map((manifest) => [manifest.name, manifest] as const))("%s exports its compiled files when installed", (_, manifest) => {
    expect(manifest.private).toBeUndefined()
    expect(manifest.files).toContain("dist")
    const published = manifest.publishConfig?.exports ?? {}
    expect(Object.keys(published)).toEqual(Object.keys(manifest.exports))
    for (const [key, source] of Object.entries(manifest.exports)) {
      if (source === null) {
        expect(published[key]).toBeNull()
        continue
      }
      const file = /^\.\/src\/(.+)\.ts$/.exec(source)?.[1]
      expect(file, `${manifest.name} ${key}`).toBeDefined()
      expect(published[key]).toEqual({ types: `./dist/${file}.d.ts`, import: `./dist/${file}.js` })
    }
  })

  it.each(manifests.map((manifest) => [manifest.name, manifest] as const))("%s needs at least the Node its Frugal dependencies need", (_, manifest) => {
    const own = minimum(manifest.engines?.node)
    expect(own).toHaveLength(3)
    for (const dependency of Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith("@frugal/"))) {
      const needed = minimum(manifests.find((other) => other.name === dependency)?.engines?.node)
      expect(atLeast(own, needed), `${manifest.name} ${manifest.engines?.node} vs ${dependency}`).toBe(true)
    }
  })
})
