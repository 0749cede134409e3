/**
 * The dashboard's own files (its stylesheet and its small script), served by the server itself: nothing comes from a
 * CDN, so the dashboard works without a network. Each is served under a path holding a hash of its content, so a
 * browser may keep it for a year and still never runs a stale one after an upgrade.
 *
 * The files sit in `assets/` beside this module when it runs from source; in the CLI bundle every module's
 * `import.meta.url` is the bundle's, so the folder is found through the package resolver instead.
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

interface Asset {
  readonly path: string
  readonly contentType: string
  readonly text: string
}

const locateAssets = (): string | undefined => {
  const candidates = [fileURLToPath(new URL("./assets/", import.meta.url))]
  try {
    candidates.push(join(dirname(fileURLToPath(import.meta.resolve("@frugal/server"))), "dashboard", "assets"))
  } catch {
    // not resolvable from here: the other candidates remain
  }
  candidates.push(fileURLToPath(new URL("../../../server/src/dashboard/assets/", import.meta.url)))
  return candidates.find((folder) => existsSync(join(folder, "dashboard.js")))
}

const load = (folder: string | undefined, file: string, contentType: string): Asset => {
  const text = folder === undefined ? `/* ${file} was not found beside the server */\n` : readFileSync(join(folder, file), "utf8")
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 12)
  return { path: `/assets/${hash}/${file}`, contentType, text }
}

const folder = locateAssets()

export const ASSETS: { readonly css: Asset; readonly js: Asset } = {
  css: load(folder, "dashboard.css", "text/css; charset=utf-8"),
  js: load(folder, "dashboard.js", "text/javascript; charset=utf-8")
}

export const ASSET_PATHS = { css: ASSETS.css.path, js: ASSETS.js.path } as const
