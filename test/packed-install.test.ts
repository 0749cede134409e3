/**
 * `@frugal/sdk` installs and runs the way a user's project gets it: each package is compiled (`pnpm build`'s
 * `scripts/build-packages.ts`, skipped when `dist/` is current), packed with `pnpm pack` (which swaps in
 * `publishConfig.exports`, pointing at `dist/`, and turns `workspace:*` into versions), and the tarballs of the SDK
 * and the Frugal packages it depends on are installed with `npm install` into a fresh folder outside the workspace.
 * There, `examples/sdk/tour.ts` runs (plan → run → status → report → simulate) and type-checks against the shipped
 * `.d.ts` files.
 *
 * Third-party dependencies (effect, the AWS SDK, …) come from the npm registry through npm's cache; with
 * `FRUGAL_PACK_OFFLINE=1` npm installs from its cache alone (warm it once with a run that has the registry).
 * `FRUGAL_PACKED_NODE=/path/to/node` runs the example on another Node (the packages' `engines` minimum, 22.19 for
 * the SDK); by default it runs on the pinned Node 24 the tests run on.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { buildPackages, distIsCurrent } from "../scripts/build-packages.ts"
import { expectTourOutput } from "./support/sdkTour.ts"

const root = fileURLToPath(new URL("../", import.meta.url))
const consumer = mkdtempSync(join(tmpdir(), "frugal-packed-"))
afterAll(() => rmSync(consumer, { recursive: true, force: true }))

interface Manifest {
  readonly name: string
  readonly version: string
  readonly dependencies?: Readonly<Record<string, string>>
  readonly engines?: { readonly node?: string }
}
const manifest = (directory: string): Manifest => JSON.parse(readFileSync(join(root, "packages", directory, "package.json"), "utf8"))
const directoryOf = (name: string): string => name.replace(/^@frugal\//, "")

/** `@frugal/sdk` and every `@frugal/*` package it needs, directly or not. */
const closure = (name: string, seen: Set<string> = new Set()): ReadonlySet<string> => {
  if (seen.has(name)) return seen
  seen.add(name)
  for (const dependency of Object.keys(manifest(directoryOf(name)).dependencies ?? {})) {
    if (dependency.startsWith("@frugal/")) closure(dependency, seen)
  }
  return seen
}

/** pnpm as the test was started (`pnpm test` names it), else the one on PATH. */
const pnpm = (args: ReadonlyArray<string>, cwd: string): string => {
  const script = process.env["npm_execpath"]
  return script !== undefined && /pnpm/.test(script)
    ? execFileSync(process.execPath, [script, ...args], { cwd, encoding: "utf8" })
    : execFileSync("pnpm", args, { cwd, encoding: "utf8" })
}

describe("the packed @frugal/sdk", () => {
  it("installs from its tarballs alone into a project outside the workspace, runs the SDK tour and type-checks it", () => {
    if (!distIsCurrent()) buildPackages()

    const tarballs = join(consumer, "tarballs")
    mkdirSync(tarballs)
    const packages = [...closure("@frugal/sdk")].sort()
    expect(packages).toEqual(expect.arrayContaining(["@frugal/core", "@frugal/planner", "@frugal/pricing", "@frugal/runner", "@frugal/sdk"]))
    expect(packages).not.toContain("@frugal/cli")
    for (const name of packages) pnpm(["pack", "--pack-destination", tarballs], join(root, "packages", directoryOf(name)))
    const files = readdirSync(tarballs)

    // What a packed package holds: compiled JavaScript and declarations, its exports pointing at them.
    const sdkTarball = files.find((file) => file.startsWith("frugal-sdk-"))
    expect(sdkTarball).toBeDefined()
    const listing = execFileSync("tar", ["tzf", join(tarballs, sdkTarball ?? "")], { encoding: "utf8" }).split("\n")
    expect(listing).toContain("package/dist/index.js")
    expect(listing).toContain("package/dist/index.d.ts")
    expect(listing.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([])
    const packed: Manifest & { readonly exports: Record<string, unknown> } = JSON.parse(
      execFileSync("tar", ["xzf", join(tarballs, sdkTarball ?? ""), "-O", "package/package.json"], { encoding: "utf8" })
    )
    expect(packed.exports["."]).toEqual({ types: "./dist/index.d.ts", import: "./dist/index.js" })
    expect(Object.values(packed.dependencies ?? {}).filter((range) => range.startsWith("workspace:"))).toEqual([])
    expect(packed.engines?.node).toBe(">=22.19.0")

    // A fresh project: the tarballs as its dependencies, the tour and the example files it reads beside it.
    const project = join(consumer, "project")
    mkdirSync(project)
    const dependencies = Object.fromEntries(packages.map((name) => {
      const file = files.find((f) => f.startsWith(`${name.replace("@", "").replace("/", "-")}-${manifest(directoryOf(name)).version}`))
      return [name, `file:${join(tarballs, file ?? "missing")}`]
    }))
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "a-project", private: true, type: "module", dependencies }, null, 2))
    for (const path of ["sdk/tour.ts", "llama-7b-finetune.yaml", "run/tiny-train.yaml", "waste/cost-explorer", "waste/gpu-utilization.json"]) {
      mkdirSync(dirname(join(project, "examples", path)), { recursive: true })
      cpSync(join(root, "examples", path), join(project, "examples", path), { recursive: true })
    }
    const offline = process.env["FRUGAL_PACK_OFFLINE"] === "1" ? ["--offline"] : ["--prefer-offline"]
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...offline], { cwd: project, encoding: "utf8" })
    // Every Frugal package came from its tarball, none from the workspace.
    for (const name of packages) {
      const installed = readFileSync(join(project, "node_modules", name, "package.json"), "utf8")
      expect(JSON.parse(installed).exports["."]).toMatchObject({ import: expect.stringMatching(/^\.\/dist\//) })
    }

    const node = process.env["FRUGAL_PACKED_NODE"] ?? process.execPath
    const tour = spawnSync(node, ["examples/sdk/tour.ts"], { cwd: project, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
    expect(tour.status, tour.stderr).toBe(0)
    // Node 22 says node:sqlite is experimental; nothing else may reach stderr.
    expect(tour.stderr.split("\n").filter((line) => line !== "" && !/ExperimentalWarning|--trace-warnings/.test(line))).toEqual([])
    expectTourOutput(tour.stdout)

    // The shipped declarations type-check the tour with the compiler's defaults for Node projects.
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2023",
        lib: ["ES2023", "ESNext.Disposable"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        typeRoots: [join(root, "node_modules", "@types")],
        types: ["node"]
      },
      include: ["examples/sdk/tour.ts"]
    }))
    const typecheck = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: project, encoding: "utf8" })
    // Errors inside third-party typings (isomorphic-ws has no @types/ws) are theirs; ours and the tour's must be none.
    const ours = typecheck.stdout.split("\n").filter((line) => /^(examples\/|node_modules\/@frugal\/)/.test(line))
    expect(ours).toEqual([])
  }, 600_000)
})
