/**
 * Regenerates the embedded AWS GPU catalog (packages/pricing/data/embedded-catalog.json).
 *
 *   pnpm exec node scripts/generate-catalog.ts <aws-gpu-offers.csv> <spot-advisor-data.json> [--out FILE]
 *     [--offers-commit SHA --offers-as-of YYYY-MM-DD --advisor-commit SHA --advisor-as-of YYYY-MM-DD]
 *
 * The provenance flags default to the inputs this repository's snapshot came from; pass new ones when
 * the inputs change (docs/catalog.md). The output is written to a temporary file, fsynced, then renamed,
 * so a failed run never leaves a half-written catalog.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { CatalogInputError, DEFAULT_PROVENANCE, generateCatalog } from "../packages/pricing/scripts/CatalogGenerator.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const usage =
  "usage: generate-catalog.ts <aws-gpu-offers.csv> <spot-advisor-data.json> [--out FILE] " +
  "[--offers-commit SHA] [--offers-as-of YYYY-MM-DD] [--advisor-commit SHA] [--advisor-as-of YYYY-MM-DD]"

const fail = (message: string): never => {
  process.stderr.write(`generate-catalog: ${message}\n`)
  process.exit(2)
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

const main = (): void => {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        out: { type: "string", default: join(root, "packages/pricing/data/embedded-catalog.json") },
        "offers-commit": { type: "string", default: DEFAULT_PROVENANCE.offers.commit },
        "offers-as-of": { type: "string", default: DEFAULT_PROVENANCE.offers.asOf },
        "advisor-commit": { type: "string", default: DEFAULT_PROVENANCE.spotAdvisor.commit },
        "advisor-as-of": { type: "string", default: DEFAULT_PROVENANCE.spotAdvisor.asOf }
      }
    })
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
  }
  const { values, positionals } = parsed
  const [offersPath, advisorPath, ...extra] = positionals
  if (offersPath === undefined || advisorPath === undefined || extra.length > 0) return fail(usage)
  for (const flag of ["offers-as-of", "advisor-as-of"] as const) {
    if (!ISO_DATE.test(values[flag])) fail(`--${flag}: expected a date like 2026-07-09, got ${values[flag]}`)
  }
  const read = (path: string): string => {
    try {
      return readFileSync(path, "utf8")
    } catch (error) {
      return fail(`${path}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const changed = (given: string, fallback: string): boolean => given !== fallback
  const provenance = {
    offers: {
      ...DEFAULT_PROVENANCE.offers,
      commit: values["offers-commit"],
      asOf: values["offers-as-of"],
      ...(changed(values["offers-as-of"], DEFAULT_PROVENANCE.offers.asOf) ? { asOfNote: "given with --offers-as-of" } : {})
    },
    spotAdvisor: {
      ...DEFAULT_PROVENANCE.spotAdvisor,
      commit: values["advisor-commit"],
      asOf: values["advisor-as-of"],
      ...(changed(values["advisor-as-of"], DEFAULT_PROVENANCE.spotAdvisor.asOf) ? { asOfNote: "given with --advisor-as-of" } : {})
    }
  }
  let text: string
  try {
    text = generateCatalog({
      offersCsv: read(offersPath),
      offersFileName: basename(offersPath),
      spotAdvisorJson: read(advisorPath),
      spotAdvisorFileName: basename(advisorPath),
      provenance
    })
  } catch (error) {
    if (error instanceof CatalogInputError || error instanceof SyntaxError) return fail(error.message)
    throw error
  }
  const out = resolve(values.out)
  const temporary = `${out}.${process.pid}.tmp`
  const fd = openSync(temporary, "w")
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, out)
  process.stdout.write(`wrote ${out} (${Buffer.byteLength(text)} bytes)\n`)
}

main()
