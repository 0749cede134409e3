/**
 * Compiles every published package to JavaScript and `.d.ts` in its own `dist/` (`pnpm build` runs this).
 *
 * Why: in the workspace every package exports its TypeScript source (`src/index.ts`), which Node strips of types
 * when it runs it; but Node does not strip types inside `node_modules`, so an installed package must ship
 * JavaScript. Each package's `publishConfig.exports` points at `dist/` (pnpm swaps it in when it packs), and the
 * workspace keeps running from source.
 *
 * One `tsc` program compiles all of them (`tsconfig.build.json`: relative `.ts` imports rewritten to `.js`), into
 * `.build/`; each package's output then replaces its `dist/` by a rename, so a failed build leaves the last good one.
 * The CLI is not compiled here: it ships the bundle `scripts/bundle-cli.ts` writes.
 *
 * Usage: `node scripts/build-packages.ts`
 */
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const out = join(root, ".build", "packages")

/** The packages `tsconfig.build.json` compiles: every workspace package but the CLI. */
export const builtPackages = (): ReadonlyArray<string> =>
  readdirSync(join(root, "packages")).filter((name) => name !== "cli" && existsSync(join(root, "packages", name, "src", "index.ts"))).sort()

const filesUnder = (directory: string): ReadonlyArray<string> =>
  readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))

/**
 * Whether every built package's `dist/` is newer than every source file of every package (a package's `.d.ts`
 * depends on the types of those it imports), and than the build settings.
 */
export const distIsCurrent = (): boolean => {
  const sources = [
    join(root, "tsconfig.base.json"),
    join(root, "tsconfig.build.json"),
    ...builtPackages().flatMap((name) => filesUnder(join(root, "packages", name, "src")))
  ]
  const newestSource = Math.max(...sources.map((path) => statSync(path).mtimeMs))
  return builtPackages().every((name) => {
    const dist = join(root, "packages", name, "dist")
    if (!existsSync(dist)) return false
    const built = filesUnder(dist).map((path) => statSync(path).mtimeMs)
    return built.length > 0 && Math.min(...built) >= newestSource
  })
}

export const buildPackages = (): ReadonlyArray<string> => {
  rmSync(out, { recursive: true, force: true })
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit"
  })
  const built = builtPackages()
  for (const name of built) {
    const compiled = join(out, name, "src")
    if (!existsSync(compiled)) throw new Error(`tsc wrote nothing for packages/${name}`)
    const dist = join(root, "packages", name, "dist")
    const previous = `${dist}.old-${process.pid}`
    if (existsSync(dist)) renameSync(dist, previous)
    renameSync(compiled, dist)
    rmSync(previous, { recursive: true, force: true })
  }
  rmSync(join(root, ".build"), { recursive: true, force: true })
  return built
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const built = buildPackages()
  console.log(`built ${built.length} packages into packages/*/dist in ${((performance.now() - started) / 1000).toFixed(1)} s: ${built.join(", ")}`)
}
