/**
 * A route of `frugal server`: method, path, who may call it, its request and response Schemas, and its handler. The
 * server dispatches on these and the OpenAPI document is generated from the same list, so the document cannot
 * describe a route the server does not serve. Pages and `/metrics` (text, not JSON) are routes too.
 */
import type { InputIssue } from "@frugal/core"
import { type Effect, Schema } from "effect"
import type { ERROR_CODES } from "@frugal/scheduler/api"
import type { Principal } from "./ServerConfig.ts"

export type Method = "GET" | "POST"

export interface ApiRequest<Body = unknown> {
  /** Null only on routes with `auth: false`. */
  readonly principal: Principal | null
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** The body decoded with the route's `request` Schema (undefined without one). */
  readonly body: Body
  /** The request's headers, names in lower case (pages read the cookie, Origin and Host). Never logged. */
  readonly headers: Readonly<Record<string, string | undefined>>
}

export interface ApiResponse {
  readonly status: number
  /** JSON-encoded unless `contentType` says otherwise (then a string, or bytes sent as they are). */
  readonly body: unknown
  readonly contentType?: string
  readonly headers?: Readonly<Record<string, string>>
}

/** A refusal the client is told about: its status, code and message (and the bad fields, the binding constraint). */
export class ApiFailure extends Schema.TaggedError<ApiFailure>()("ApiFailure", {
  status: Schema.Number,
  code: Schema.String,
  detail: Schema.String,
  issues: Schema.optionalKey(Schema.Array(Schema.Struct({ path: Schema.String, expected: Schema.String, actual: Schema.optionalKey(Schema.String) }))),
  constraint: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    return this.detail
  }
}

export type ErrorCode = (typeof ERROR_CODES)[number]

export const failure = (status: number, code: ErrorCode, detail: string, extra: { readonly issues?: ReadonlyArray<InputIssue>; readonly constraint?: string } = {}) =>
  new ApiFailure({ status, code, detail, ...extra })

export interface Route<R = never> {
  readonly method: Method
  /** OpenAPI style: `/api/v1/jobs/{id}`. */
  readonly path: string
  readonly operationId: string
  readonly summary: string
  /** Needs a valid token (every route but `/healthz`). */
  readonly auth: boolean
  readonly request?: Schema.Decoder<unknown>
  /** How the body comes: JSON (the API) or an HTML form, `application/x-www-form-urlencoded` (the dashboard's). */
  readonly bodyType?: "json" | "form"
  readonly query?: Readonly<Record<string, { readonly description: string; readonly schema: Schema.Top }>>
  readonly responses: ReadonlyArray<{ readonly status: number; readonly description: string; readonly schema?: Schema.Top; readonly contentType?: string }>
  readonly handle: (request: ApiRequest<never>) => Effect.Effect<ApiResponse, ApiFailure, R>
}

/** A route whose handler sees its body as the request Schema's type. */
export const route = <S extends Schema.Decoder<unknown>, R>(
  definition: Omit<Route<R>, "handle" | "request"> & {
    readonly request?: S
    readonly handle: (request: ApiRequest<S["Type"]>) => Effect.Effect<ApiResponse, ApiFailure, R>
  }
): Route<R> => definition as Route<R>

export const json = (status: number, body: unknown): ApiResponse => ({ status, body })
