/**
 * The HTTP side of `frugal server`, on Node's `http`: a request is matched to its route, authenticated, its body read
 * up to `maxBodyBytes` (413 past it, before reading the rest) and decoded with the route's Schema (400 naming each
 * bad field), then handled as an Effect on the server's services. Answers are JSON; failures carry
 * `{ error: { code, message, issues?, constraint? } }`. One log line per request: method, path, status, time and
 * team; never a header or a body, so no token reaches a log.
 */
import { inputIssuesFromSchemaIssue, LocalFailure, strictParseOptions } from "@frugal/core"
import { Cause, type Context, Effect, Exit, Schema, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Authenticator } from "./Auth.ts"
import { ApiFailure, type ApiResponse, failure, type Route } from "./Route.ts"

export interface HttpOptions {
  readonly host: string
  readonly port: number
  readonly maxBodyBytes: number
  readonly log: (line: string) => void
}

interface Matched<R> {
  readonly route: Route<R>
  readonly params: Record<string, string>
}

const compile = <R>(routes: ReadonlyArray<Route<R>>) =>
  routes.map((route) => {
    const names: Array<string> = []
    const source = route.path
      .split(/(\{\w+\})/)
      .map((part) => {
        const parameter = /^\{(\w+)\}$/.exec(part)
        if (parameter === null) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")
        names.push(parameter[1] ?? "")
        return "([^/]+)"
      })
      .join("")
    return { route, names, pattern: new RegExp(`^${source}$`) }
  })

const errorBody = (error: ApiFailure) => ({
  error: {
    code: error.code,
    message: error.detail,
    ...(error.issues === undefined ? {} : { issues: error.issues }),
    ...(error.constraint === undefined ? {} : { constraint: error.constraint })
  }
})

/** Reads the body, refusing it past `limit` bytes without reading the rest. */
const readBody = (request: IncomingMessage, limit: number): Promise<Buffer | "too-large"> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > limit) return resolve("too-large")
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        request.removeAllListeners("data")
        request.pause()
        resolve("too-large")
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => resolve(Buffer.concat(chunks)))
    request.on("error", reject)
  })

const decodeBody = (schema: Schema.Decoder<unknown>, text: string, type: "json" | "form"): { readonly value: unknown } | ApiFailure => {
  let parsed: unknown
  try {
    parsed = type === "form" ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text)
  } catch (error) {
    return failure(400, "invalid_input", "the body is not valid JSON", {
      issues: [{ path: "", expected: "a JSON object", actual: error instanceof Error ? error.message : "unparseable" }]
    })
  }
  const exit = Schema.decodeUnknownExit(schema)(parsed, strictParseOptions)
  if (Exit.isSuccess(exit)) return { value: exit.value }
  const error = Exit.findErrorOption(exit)
  const issues = error._tag === "None" ? [] : inputIssuesFromSchemaIssue(error.value.issue)
  return failure(400, "invalid_input", `invalid request body: ${issues.map((i) => i.path || "(body)").join(", ")}`, {
    issues: issues.length > 0 ? issues : [{ path: "", expected: "a valid request body" }]
  })
}

/** Serves `routes` until the scope closes; returns the port it listens on. */
export const serveHttp = <R>(
  routes: ReadonlyArray<Route<R>>,
  authenticator: Authenticator,
  options: HttpOptions
): Effect.Effect<number, LocalFailure, R | Scope.Scope> =>
  Effect.gen(function*() {
    const context: Context.Context<R> = yield* Effect.context<R>()
    const run = Effect.runCallbackWith(context)
    const compiled = compile(routes)

    const send = (response: ServerResponse, answer: ApiResponse) => {
      const text = answer.body instanceof Uint8Array ? answer.body : answer.contentType === undefined ? JSON.stringify(answer.body) : String(answer.body)
      response.writeHead(answer.status, {
        "content-type": answer.contentType ?? "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        ...(answer.status === 401 ? { "www-authenticate": "Bearer" } : {}),
        ...answer.headers
      })
      response.end(text)
    }

    const handle = async (request: IncomingMessage, response: ServerResponse) => {
      const started = performance.now()
      const url = new URL(request.url ?? "/", "http://server")
      let team = "-"
      const finish = (answer: ApiResponse) => {
        send(response, answer)
        options.log(`${request.method ?? "?"} ${url.pathname} ${answer.status} ${(performance.now() - started).toFixed(1)}ms team=${team}`)
      }
      const refuse = (error: ApiFailure) => finish({ status: error.status, body: errorBody(error) })

      const candidates = compiled.flatMap((entry) => {
        const match = entry.pattern.exec(url.pathname)
        return match === null ? [] : [{ entry, match }]
      })
      const found = candidates.find((candidate) => candidate.entry.route.method === request.method)
      if (found === undefined) {
        request.resume()
        return refuse(candidates.length > 0
          ? failure(405, "method_not_allowed", `${request.method ?? "?"} is not served at ${url.pathname}`)
          : failure(404, "not_found", `nothing is served at ${url.pathname}`))
      }
      const matched: Matched<R> = {
        route: found.entry.route,
        params: Object.fromEntries(found.entry.names.map((name, i) => [name, decodeURIComponent(found.match[i + 1] ?? "")]))
      }
      const principal = matched.route.auth ? authenticator.authenticate(request.headers.authorization) : null
      if (matched.route.auth && principal === null) {
        request.resume()
        return refuse(failure(401, "unauthorized", request.headers.authorization === undefined ? "a bearer token is required" : "the token is not accepted"))
      }
      if (principal !== null) team = principal.kind === "admin" ? "(admin)" : principal.team
      let body: unknown = undefined
      if (matched.route.request !== undefined) {
        const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase()
        const bodyType = matched.route.bodyType ?? "json"
        const expected = bodyType === "form" ? "application/x-www-form-urlencoded" : "application/json"
        if (type !== expected) {
          request.resume()
          return refuse(failure(415, "unsupported_media_type", `send the body as ${expected}`))
        }
        const raw = await readBody(request, options.maxBodyBytes)
        if (raw === "too-large") {
          response.setHeader("connection", "close")
          return refuse(failure(413, "payload_too_large", `the body is larger than ${options.maxBodyBytes} bytes`))
        }
        const decoded = decodeBody(matched.route.request, raw.toString("utf8"), bodyType)
        if (decoded instanceof ApiFailure) return refuse(decoded)
        body = decoded.value
      } else {
        request.resume()
      }
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : value]))
      const interrupt = run(matched.route.handle({ principal, params: matched.params, query: url.searchParams, body: body as never, headers }), {
        onExit: (exit) => {
          if (response.writableEnded || response.destroyed) return
          if (Exit.isSuccess(exit)) return finish(exit.value)
          const expected = Cause.findErrorOption(exit.cause)
          if (expected._tag === "Some") return refuse(expected.value)
          options.log(`${request.method ?? "?"} ${url.pathname}: ${Cause.pretty(exit.cause).split("\n")[0] ?? "failed"}`)
          refuse(failure(500, "internal", "the server failed to answer; its log says why"))
        }
      })
      response.on("close", () => {
        if (!response.writableEnded) interrupt()
      })
    }

    const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 }, (request, response) => {
      handle(request, response).catch((error: unknown) => {
        options.log(`request failed: ${error instanceof Error ? error.message : String(error)}`)
        if (!response.headersSent) response.writeHead(500).end()
      })
    })
    server.maxRequestsPerSocket = 0
    const port = yield* Effect.acquireRelease(
      Effect.callback<number, LocalFailure>((resume) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
          resume(Effect.fail(new LocalFailure({ operation: `listen on ${options.host}:${options.port}`, detail: describeListenError(error) }))))
        server.listen(options.port, options.host, () => {
          const address: AddressInfo | string | null = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : options.port))
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    return port
  })

const describeListenError = (error: NodeJS.ErrnoException): string => {
  if (error.code === "EADDRINUSE") return "the port is already in use (EADDRINUSE)"
  if (error.code === "EACCES") return "permission denied (EACCES): ports below 1024 need privileges"
  if (error.code === "EADDRNOTAVAIL") return "no such address on this machine (EADDRNOTAVAIL)"
  return error.message
}
