/**
 * The dashboard's HTML, written as tagged templates (htm) over Preact's virtual nodes and rendered to a string on
 * the server (preact-render-to-string). Every interpolated value is text or an attribute value, escaped by the
 * renderer: a job name, a team or a reason can never become markup. The one exception is a chart: SVG drawn by
 * ECharts from numbers and escaped labels (Charts.ts), inserted with `rawSvg`.
 */
import * as Htm from "htm"
import { Fragment, h, type VNode } from "preact"
import { render } from "preact-render-to-string"

// htm's types describe its CommonJS build (where the function is `module.exports.default`); Node loads its ES
// module, whose default export is the function itself. Take whichever this runtime gave.
type HtmFunction = typeof Htm.default.default
const isHtm = (value: unknown): value is HtmFunction => typeof value === "function"
const loaded: unknown = Htm.default
const bound = (isHtm(loaded) ? loaded : Htm.default.default).bind(h)

/** A template of elements; several top-level elements become one fragment. */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<unknown>): VNode => {
  const out: VNode | ReadonlyArray<VNode> = bound(strings, ...values)
  return Array.isArray(out) ? h(Fragment, null, out) : (out as VNode)
}

export const renderToString = (node: VNode): string => render(node)

/** An SVG chart from Charts.ts (markup ECharts produced from escaped labels), in a figure with its description. */
export const rawSvg = (className: string, svg: string): VNode => html`<div class=${className} dangerouslySetInnerHTML=${{ __html: svg }} />`

export { type VNode }
