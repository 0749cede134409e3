/**
 * Bundles the CLI into `packages/cli/dist/frugal.js` (plus lazily loaded chunks).
 *
 * Why: loading effect and our packages module by module through Node's type stripping costs about a
 * second; one minified, tree-shaken file (with the embedded price catalog inlined) starts in a small
 * fraction of that. Commands that load heavy dependencies through `Lazy.ts` become separate chunks,
 * so `frugal plan` never reads them.
 *
 * `packages/cli/bin/frugal.js` runs the bundle only while none of the source files listed in
 * `dist/frugal.inputs.json` is newer than it, so an edited source is never hidden by a stale bundle.
 *
 * Usage: `node scripts/bundle-cli.ts [--if-possible]`. With `--if-possible` (the root `prepare`
 * script, run by `pnpm install`) a failed build prints a warning and exits 0: the CLI still works from
 * source, only slower, and an install must not fail because a work-in-progress file does not bundle.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild"
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const outdir = join(root, "packages/cli/dist")
const ifPossible = process.argv.includes("--if-possible")

/**
 * A command that loads a workspace package lazily (`import("@frugal/slack")`) must not stop the
 * bundle when that package is still being written: the import stays external and fails, as it
 * would from source, only when that command runs.
 */
const tolerateMissingLazyPackages: Plugin = {
  name: "tolerate-missing-lazy-packages",
  setup(build) {
    build.onResolve({ filter: /^@frugal\//, namespace: "file" }, async (args) => {
      if (args.kind !== "dynamic-import" || args.pluginData === "retry") return undefined
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "retry" })
      if (resolved.errors.length === 0) return resolved
      console.warn(`warning: ${args.path} (imported lazily by ${relative(root, args.importer)}) does not resolve; left external`)
      return { path: args.path, external: true }
    })
  }
}

/** The esbuild options of the CLI bundle; `write: false`, the caller writes (atomically). */
export const bundleOptions = (outdir: string): BuildOptions & { readonly metafile: true; readonly write: false } => ({
  absWorkingDir: root,
  entryPoints: { frugal: "packages/cli/src/main.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  minify: true,
  // Names are not kept: tagged errors carry their `_tag`, and keeping names wraps every function
  // in a defineProperty call at start-up for no benefit to users.
  keepNames: false,
  legalComments: "none",
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
  write: false,
  logLevel: "warning",
  plugins: [tolerateMissingLazyPackages],
  // CommonJS dependencies (the AWS SDK among them) call `require`, which ESM lacks.
  banner: { js: "import{createRequire as __frugalRequire}from\"node:module\";const require=__frugalRequire(import.meta.url);" }
})

/**
 * The npm packages and Node built-ins the entry file loads before any command runs: everything
 * reachable through static imports, not through a lazy `import()`. `frugal plan` pays for each.
 */
export const startupDependencies = (metafile: Metafile, entry: string): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const stack = [entry]
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    const output = metafile.outputs[file]
    if (output === undefined) continue
    for (const input of Object.keys(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)
      if (match?.[1] !== undefined) packages.add(match[1])
    }
    for (const imported of output.imports) {
      if (imported.kind !== "import-statement") continue
      if (imported.external) packages.add(imported.path)
      else stack.push(imported.path)
    }
  }
  return [...packages].sort()
}

/** Minified bytes of the bundle's files reachable from `entry` through static imports: what every command loads. */
export const startupBytes = (metafile: Metafile, entry: string): number => {
  let bytes = 0
  const seen = new Set<string>()
  const stack = [entry]
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    const output = metafile.outputs[file]
    if (seen.has(file) || output === undefined) continue
    seen.add(file)
    bytes += output.bytes
    for (const imported of output.imports) if (imported.kind === "import-statement" && !imported.external) stack.push(imported.path)
  }
  return bytes
}

const bundle = async (): Promise<void> => {
  const started = performance.now()
  const result = await build(bundleOptions(outdir))

  // Write beside the old bundle, then rename: a failed or interrupted build never leaves a broken
  // `frugal.js` behind. The entry file goes last, so it never points at chunks not yet written.
  mkdirSync(join(outdir, "chunks"), { recursive: true })
  const entry = join(outdir, "frugal.js")
  const written = new Set<string>()
  const files = [...result.outputFiles].sort((a, b) => (a.path === entry ? 1 : 0) - (b.path === entry ? 1 : 0))
  const sources = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes("node_modules/"))
    .sort()
  const inputsFile = join(outdir, "frugal.inputs.json")
  for (const file of [...files.slice(0, -1), { path: inputsFile, contents: new TextEncoder().encode(`${JSON.stringify(sources, null, 1)}\n`) }, ...files.slice(-1)]) {
    const temporary = `${file.path}.${process.pid}.tmp`
    mkdirSync(dirname(file.path), { recursive: true })
    writeFileSync(temporary, file.contents, { flush: true })
    renameSync(temporary, file.path)
    written.add(file.path)
  }
  // Chunks of earlier builds have other hashes; drop them now that nothing refers to them.
  for (const name of readdirSync(join(outdir, "chunks"))) {
    const path = join(outdir, "chunks", name)
    if (!written.has(path)) rmSync(path, { force: true })
  }

  const entryBytes = result.outputFiles.find((file) => file.path === entry)?.contents.byteLength ?? 0
  const entryOutput = Object.keys(result.metafile.outputs).find((path) => path.endsWith("/frugal.js") && !path.includes("/chunks/"))
  const startup = entryOutput === undefined ? 0 : startupBytes(result.metafile, entryOutput)
  console.log(
    `bundled ${relative(root, entry)} (${(entryBytes / 1024).toFixed(0)} KiB, ${startup} bytes on the start-up path, ` +
      `${result.outputFiles.length - 1} chunk(s), ${sources.length} workspace sources) in ${(performance.now() - started).toFixed(0)} ms`
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await bundle()
  } catch (error) {
    if (!ifPossible) throw error
    // The bin falls back to the TypeScript source when the bundle is missing or stale.
    console.warn(`warning: could not bundle the frugal CLI (it will run from source, more slowly): ${String(error)}`)
    if (existsSync(join(outdir, "frugal.js"))) console.warn("warning: the previous bundle is kept but is stale")
  }
}
