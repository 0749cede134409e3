/**
 * A loopback AWS endpoint for the awsJson protocols: Cost Explorer speaks awsJson1_1
 * (`X-Amz-Target: AWSInsightsIndexService.<Operation>`), CloudWatch in SDK 3.1164 speaks awsJson1_0
 * (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, timestamps as epoch seconds).
 * Each request is recorded; `answer` returns the JSON body or an error `{ status, type, message }`.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

export interface RecordedRequest {
  readonly operation: string
  readonly input: Record<string, unknown>
}

export interface AwsError {
  readonly status: number
  readonly type: string
  readonly message: string
}

export type Answer = (operation: string, input: Record<string, unknown>, calls: number) => object | AwsError

export interface LoopbackAws {
  readonly url: string
  readonly requests: Array<RecordedRequest>
  readonly close: () => Promise<void>
}

const isError = (value: object): value is AwsError => "type" in value && "status" in value

export const startLoopbackAws = (jsonVersion: "1.0" | "1.1", answer: Answer): Promise<LoopbackAws> =>
  new Promise((resolve) => {
    const requests: Array<RecordedRequest> = []
    const server: Server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const target = String(request.headers["x-amz-target"] ?? "")
        const operation = target.split(".").pop() ?? ""
        const body = Buffer.concat(chunks).toString("utf8")
        const input = body === "" ? {} : (JSON.parse(body) as Record<string, unknown>)
        requests.push({ operation, input })
        const result = answer(operation, input, requests.filter((one) => one.operation === operation).length)
        const contentType = `application/x-amz-json-${jsonVersion}`
        if (isError(result)) {
          response.writeHead(result.status, { "content-type": contentType, "x-amzn-errortype": result.type })
          response.end(JSON.stringify({ __type: result.type, message: result.message }))
        } else {
          response.writeHead(200, { "content-type": contentType, "x-amzn-requestid": "loopback" })
          response.end(JSON.stringify(result))
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise((done) => server.close(() => done()))
      })
    })
  })

export const testCredentials = { accessKeyId: "AKIDLOOPBACK", secretAccessKey: "loopback-secret" }
