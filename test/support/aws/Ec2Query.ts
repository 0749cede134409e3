/**
 * The EC2 query protocol: every call is `POST /` with a form-encoded body
 * (`Action=DescribeSpotPriceHistory&Version=2016-11-15&InstanceType.1=p5.48xlarge&Filter.1.Name=…`),
 * answered with XML `<{Action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">…</…>` whose
 * members are lowerCamelCase and whose lists are `<item>` elements. Errors are
 * `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>`.
 */
import type { LoopbackRequest, LoopbackResponse } from "./LoopbackServer.ts"

/** The decoded form parameters of one EC2 query request. */
export class Ec2Params {
  readonly action: string
  readonly #params: URLSearchParams
  constructor(body: string) {
    this.#params = new URLSearchParams(body)
    this.action = this.#params.get("Action") ?? ""
  }
  get(name: string): string | undefined {
    return this.#params.get(name) ?? undefined
  }
  /** `Name.1`, `Name.2`, … in order. */
  list(name: string): Array<string> {
    const out: Array<string> = []
    for (let i = 1; this.#params.has(`${name}.${i}`); i++) out.push(this.#params.get(`${name}.${i}`) ?? "")
    return out
  }
  /** `Filter.N.Name` / `Filter.N.Value.M` as a map from filter name to its values. */
  filters(): Map<string, Array<string>> {
    const out = new Map<string, Array<string>>()
    for (let i = 1; this.#params.has(`Filter.${i}.Name`); i++) {
      out.set(this.#params.get(`Filter.${i}.Name`) ?? "", this.list(`Filter.${i}.Value`))
    }
    return out
  }
}

/** An XML value: text, a nested element map, or a list (serialized as `<item>` children). */
export type XmlValue = string | number | boolean | null | undefined | ReadonlyArray<XmlValue> | { readonly [k: string]: XmlValue }

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const toXml = (value: XmlValue): string => {
  if (value === null || value === undefined) return ""
  if (Array.isArray(value)) return value.map((item: XmlValue) => `<item>${toXml(item)}</item>`).join("")
  if (typeof value === "object") {
    return Object.entries(value as { readonly [k: string]: XmlValue })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("")
  }
  return escape(String(value))
}

const EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"

export const ec2Response = (action: string, members: { readonly [k: string]: XmlValue }): LoopbackResponse => ({
  status: 200,
  headers: { "content-type": "text/xml;charset=UTF-8" },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">` +
    `<requestId>loopback</requestId>${toXml(members)}</${action}Response>`
})

/** EC2's error envelope. `RequestLimitExceeded` is EC2's throttling code and comes with HTTP 503. */
export const ec2Error = (code: string, message: string, status = 400): LoopbackResponse => ({
  status,
  headers: { "content-type": "text/xml;charset=UTF-8" },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escape(code)}</Code>` +
    `<Message>${escape(message)}</Message></Error></Errors><RequestID>loopback</RequestID></Response>`
})

export const requestLimitExceeded = (): LoopbackResponse => ec2Error("RequestLimitExceeded", "Request limit exceeded.", 503)

export type Ec2Operation = (params: Ec2Params, request: LoopbackRequest) =>
  | { readonly [k: string]: XmlValue }
  | LoopbackResponse
  | Promise<{ readonly [k: string]: XmlValue } | LoopbackResponse>

const isResponse = (value: unknown): value is LoopbackResponse =>
  typeof value === "object" && value !== null && "status" in value && "body" in value

/** Routes EC2 query requests to `operations` by `Action`. */
export const ec2QueryHandler = (operations: Readonly<Record<string, Ec2Operation>>) =>
async (request: LoopbackRequest): Promise<LoopbackResponse> => {
  const params = new Ec2Params(request.body)
  const operation = operations[params.action]
  if (operation === undefined) return ec2Error("InvalidAction", `The action ${params.action} is not valid for this web service.`)
  const result = await operation(params, request)
  return isResponse(result) ? result : ec2Response(params.action, result)
}

/** True when a request is an EC2 query call (form body with `Action=`). */
export const isEc2Query = (request: LoopbackRequest): boolean => request.body.startsWith("Action=") || /(^|&)Action=/.test(request.body)
