/**
 * Turns an Effect Schema issue tree into the flat list of `InputIssue`s a user reads: one entry per problem,
 * each with a dotted path (`workloads[1].model.parameters`), the offending value shortened, and what was expected
 * in plain words (taken from the `expected` annotations the schemas carry).
 */
import { SchemaAST, type SchemaIssue } from "effect"
import type { InputIssue } from "./Errors.ts"

/** Decode options every boundary uses: report every issue, reject unknown keys, keep inputs for messages. */
export const strictParseOptions: SchemaAST.ParseOptions = {
  errors: "all",
  onExcessProperty: "error",
  reportInput: true
}

/** Shortens a value for display: JSON-ish, at most `max` characters. */
export const showValue = (value: unknown, max = 60): string => {
  let text: string
  if (typeof value === "string") text = JSON.stringify(value)
  else if (value === undefined) text = "undefined"
  else if (typeof value === "number" || typeof value === "boolean" || value === null) text = String(value)
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value)
    }
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, key) =>
    typeof key === "number"
      ? `${acc}[${key}]`
      : acc === ""
      ? String(key)
      : `${acc}.${String(key)}`, "")

const annotationOf = (annotations: unknown, key: "expected" | "description" | "message"): string | undefined => {
  if (typeof annotations !== "object" || annotations === null) return undefined
  const value: unknown = Reflect.get(annotations, key)
  return typeof value === "string" ? value : undefined
}

/** The plain-words expectation of a schema node: its own annotation, its last check's, or its encoded side's. */
const expectedOf = (ast: SchemaAST.AST): string | undefined => {
  // A struct's checks are cross-field rules; they say nothing about what the struct as a whole should be.
  const fromChecks = SchemaAST.isObjects(ast)
    ? undefined
    : ast.checks?.map((c) => annotationOf(c.annotations, "expected")).filter((e) => e !== undefined)
  const own = annotationOf(ast.annotations, "expected") ?? fromChecks?.at(-1)
  if (own !== undefined) return own
  const link = ast.encoding?.at(-1)
  return link === undefined ? undefined : expectedOf(link.to)
}

const describeAst = (ast: SchemaAST.AST): string => {
  const expected = expectedOf(ast)
  if (expected !== undefined) return expected
  switch (ast._tag) {
    case "Objects": {
      const isOptionalKey = (p: SchemaAST.PropertySignature) => SchemaAST.isOptional(SchemaAST.toEncoded(p.type))
      const required = ast.propertySignatures.filter((p) => !isOptionalKey(p)).map((p) => String(p.name))
      const optional = ast.propertySignatures.filter(isOptionalKey).map((p) => String(p.name))
      return `a mapping with ${required.length > 0 ? required.join(", ") : "no required fields"}` +
        (optional.length > 0 ? ` (optional: ${optional.join(", ")})` : "")
    }
    case "Arrays":
      return "a list"
    case "String":
      return "a string"
    case "Number":
      return "a number"
    case "Boolean":
      return "true or false"
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Union":
      return ast.types.map(describeAst).join(" or ")
    default:
      return ast._tag.toLowerCase()
  }
}

const fieldNames = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  SchemaAST.isObjects(ast)
    ? ast.propertySignatures.map((p) => String(p.name))
    : []

/** Damerau-free edit distance, enough to suggest `deadlineHours` for `deadlinHours`. */
const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length] ?? 0
}

const unexpectedKey = (key: PropertyKey | undefined, ast: SchemaAST.AST): string => {
  const known = fieldNames(ast)
  if (known.length === 0) return "no field here"
  const name = String(key ?? "").toLowerCase()
  const closest = known
    .map((k) => ({ k, d: distance(name, k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0]
  const hint = closest !== undefined && closest.d <= Math.max(2, Math.floor(name.length / 4))
    ? ` (did you mean ${closest.k}?)`
    : ""
  return `one of the known fields ${known.join(", ")}${hint}`
}

/** What a key of a mapping (`Schema.Record`) must be, from its key schema's words; undefined for a struct. */
const recordKeyExpected = (ast: SchemaAST.AST): string | undefined => {
  if (!SchemaAST.isObjects(ast) || ast.propertySignatures.length > 0) return undefined
  const parameter = ast.indexSignatures[0]?.parameter
  return parameter === undefined ? undefined : expectedOf(parameter)
}

const inputOf = (issue: SchemaIssue.Issue): { readonly present: boolean; readonly value: unknown } =>
  "input" in issue ? { present: true, value: issue.input } : { present: false, value: undefined }

const push = (out: Array<InputIssue>, path: ReadonlyArray<PropertyKey>, expected: string, input: { readonly present: boolean; readonly value: unknown }) => {
  const entry: InputIssue = input.present
    ? { path: formatPath(path), expected, actual: showValue(input.value) }
    : { path: formatPath(path), expected }
  if (!out.some((o) => o.path === entry.path && o.expected === entry.expected)) out.push(entry)
}

const walk = (
  issue: SchemaIssue.Issue,
  path: ReadonlyArray<PropertyKey>,
  parent: SchemaAST.AST | undefined,
  out: Array<InputIssue>,
  override: string | undefined
): void => {
  switch (issue._tag) {
    case "Pointer": {
      walk(issue.issue, [...path, ...issue.path], pointee(parent, issue.path), out, override)
      return
    }
    case "Composite":
      for (const inner of issue.issues) walk(inner, path, issue.ast, out, override)
      return
    case "Encoding":
      walk(issue.issue, path, issue.ast, out, override)
      return
    case "Filter": {
      // The field's own words ("a whole number of layers at least 1 …") beat a single check's ("≤ 1000").
      const field = parent !== undefined && !SchemaAST.isObjects(parent) ? expectedOf(parent) : undefined
      const expected = field ?? annotationOf(issue.filter.annotations, "expected")
      // A filter that reports nested paths (cross-field checks) carries its own messages.
      if (issue.issue._tag === "Pointer" || issue.issue._tag === "Composite") {
        walk(issue.issue, path, parent, out, undefined)
        return
      }
      walk(issue.issue, path, parent, out, override ?? expected)
      return
    }
    case "AnyOf": {
      if (issue.issues.length === 1) {
        const [only] = issue.issues
        if (only !== undefined) walk(only, path, parent, out, override)
        return
      }
      // A workload whose kind matches no member: point at `kind`, the one field that decides.
      const input = inputOf(issue)
      const kind = typeof input.value === "object" && input.value !== null ? Reflect.get(input.value, "kind") : undefined
      const kinds = issue.ast.types.flatMap((member) =>
        SchemaAST.isObjects(member)
          ? member.propertySignatures.flatMap((p) =>
            p.name === "kind" && SchemaAST.isLiteral(p.type) ? [String(p.type.literal)] : []
          )
          : []
      )
      if (kinds.length > 0 && typeof input.value === "object" && input.value !== null && !Array.isArray(input.value)) {
        push(out, [...path, "kind"], `one of ${kinds.join(", ")}`, {
          present: kind !== undefined,
          value: kind
        })
        return
      }
      push(out, path, override ?? describeAst(issue.ast), input)
      return
    }
    case "MissingKey": {
      const expected = override ?? (parent === undefined ? undefined : describeAst(parent))
      push(out, path, expected ?? "a value", { present: false, value: undefined })
      return
    }
    case "UnexpectedKey": {
      // A mapping's key that its key schema refuses (a zone name where an AZ ID belongs): the key is what is wrong,
      // so say what a key should be and show the key, not the value under it.
      const keyExpected = recordKeyExpected(issue.ast)
      if (keyExpected !== undefined) {
        push(out, path, keyExpected, { present: true, value: String(path.at(-1) ?? "") })
        return
      }
      push(out, path, unexpectedKey(path.at(-1), issue.ast), inputOf(issue))
      return
    }
    case "InvalidType":
      push(out, path, override ?? describeAst(issue.ast), inputOf(issue))
      return
    case "InvalidValue": {
      const expected = override ?? annotationOf(issue.annotations, "expected") ??
        annotationOf(issue.annotations, "message") ?? (parent === undefined ? "a valid value" : describeAst(parent))
      push(out, path, expected, inputOf(issue))
      return
    }
    case "Forbidden":
    case "OneOf":
      push(out, path, override ?? "a valid value", inputOf(issue))
      return
  }
}

/** The schema of the field a pointer leads to, when the parent is a struct, so missing keys can say what they need. */
const pointee = (parent: SchemaAST.AST | undefined, path: ReadonlyArray<PropertyKey>): SchemaAST.AST | undefined => {
  if (parent === undefined || path.length !== 1) return undefined
  const [key] = path
  if (SchemaAST.isObjects(parent)) return parent.propertySignatures.find((p) => p.name === key)?.type
  if (SchemaAST.isArrays(parent)) return parent.rest[0] ?? parent.elements[0]
  return undefined
}

/** Every problem in the issue tree, each once, in document order. `prefix` is prepended to each path. */
export const inputIssuesFromSchemaIssue = (
  issue: SchemaIssue.Issue,
  prefix: ReadonlyArray<PropertyKey> = []
): ReadonlyArray<InputIssue> => {
  const out: Array<InputIssue> = []
  walk(issue, prefix, undefined, out, undefined)
  return out
}
