/**
 * The AWS query protocol of Auto Scaling, IAM, SQS…: every call is `POST /` with a form body
 * (`Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=…&Tags.member.1.Key=Name&…`), lists
 * as `Name.member.N`, nested structures as dotted paths. Answers are XML
 * `<{Action}Response xmlns="…"><{Action}Result>…</{Action}Result><ResponseMetadata><RequestId>…</RequestId>
 * </ResponseMetadata></{Action}Response>` with lists as `<member>` elements; errors are
 * `<ErrorResponse xmlns="…"><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
 * (EC2's own dialect, with `<item>` lists and no Result wrapper, is Ec2Query.ts.)
 */
import type { LoopbackRequest, LoopbackResponse } from "./LoopbackServer.ts"

/** A decoded query value: text, a structure, or a list. */
export type QueryValue = string | QueryStructure | ReadonlyArray<QueryValue>
export interface QueryStructure {
  readonly [key: string]: QueryValue
}

type Mutable = { [key: string]: Node }
type Node = Mutable | Array<Mutable | string> | string

/** The form parameters of a request as a tree: `A.member.2.B=x` → `{ A: [<1>, { B: "x" }] }`. */
export const decodeQuery = (body: string): { readonly action: string; readonly version: string; readonly params: QueryStructure } => {
  const form = new URLSearchParams(body)
  const root: Mutable = {}
  for (const [key, value] of form) {
    if (key === "Action" || key === "Version") continue
    const parts = key.split(".")
    let node: Mutable | Array<Mutable | string> = root
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? ""
      const last = i === parts.length - 1
      if (Array.isArray(node)) {
        const index = Number(part) - 1
        if (last) node[index] = value
        else {
          const existing: Mutable | string | undefined = node[index]
          node = typeof existing === "object" ? existing : (node[index] = {})
        }
        continue
      }
      const next = parts[i + 1]
      if (last) node[part] = value
      else if (next === "member") {
        const existing: Node | undefined = node[part]
        node = Array.isArray(existing) ? existing : (node[part] = [])
        i++
        if (i === parts.length - 1) break
      } else {
        const existing: Node | undefined = node[part]
        node = typeof existing === "object" && !Array.isArray(existing) ? existing : (node[part] = {})
      }
    }
  }
  return { action: form.get("Action") ?? "", version: form.get("Version") ?? "", params: root }
}

/** A value to answer with: text, numbers, booleans, dates, structures, lists (serialised as `<member>`). */
export type XmlAnswer =
  | string
  | number
  | boolean
  | Date
  | null
  | undefined
  | ReadonlyArray<XmlAnswer>
  | { readonly [key: string]: XmlAnswer }

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const toQueryXml = (value: XmlAnswer): string => {
  if (value === null || value === undefined) return ""
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map((item: XmlAnswer) => `<member>${toQueryXml(item)}</member>`).join("")
  if (typeof value === "object") {
    return Object.entries(value as { readonly [key: string]: XmlAnswer })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toQueryXml(v)}</${k}>`)
      .join("")
  }
  return escape(String(value))
}

export const queryResponse = (namespace: string, action: string, result: { readonly [key: string]: XmlAnswer } | null): LoopbackResponse => ({
  status: 200,
  headers: { "content-type": "text/xml" },
  body: `<?xml version="1.0"?>\n<${action}Response xmlns="${namespace}">` +
    (result === null ? "" : `<${action}Result>${toQueryXml(result)}</${action}Result>`) +
    `<ResponseMetadata><RequestId>loopback</RequestId></ResponseMetadata></${action}Response>`
})

export const queryError = (namespace: string, code: string, message: string, status = 400): LoopbackResponse => ({
  status,
  headers: { "content-type": "text/xml" },
  body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${escape(code)}</Code>` +
    `<Message>${escape(message)}</Message></Error><RequestId>loopback</RequestId></ErrorResponse>`
})

export type QueryOperation = (params: QueryStructure, request: LoopbackRequest) =>
  | { readonly [key: string]: XmlAnswer }
  | null
  | LoopbackResponse

const isResponse = (value: unknown): value is LoopbackResponse =>
  typeof value === "object" && value !== null && "status" in value && "body" in value

/** Routes query requests of one `version` to `operations` by Action (`null`: an empty result). */
export const awsQueryHandler = (namespace: string, operations: Readonly<Record<string, QueryOperation>>) =>
(request: LoopbackRequest): LoopbackResponse => {
  const { action, params } = decodeQuery(request.body)
  const operation = operations[action]
  if (operation === undefined) return queryError(namespace, "InvalidAction", `The action ${action} is not valid for this web service.`)
  const result = operation(params, request)
  return isResponse(result) ? result : queryResponse(namespace, action, result)
}

/** Small readers for decoded parameters. */
export const text = (value: QueryValue | undefined): string | undefined => (typeof value === "string" ? value : undefined)
export const list = (value: QueryValue | undefined): ReadonlyArray<QueryValue> => (Array.isArray(value) ? value : [])
export const struct = (value: QueryValue | undefined): QueryStructure =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as QueryStructure) : {}
