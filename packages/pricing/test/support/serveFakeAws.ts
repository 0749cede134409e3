/**
 * Serves the fake AWS on 127.0.0.1 until killed, for trying `frugal prices refresh` by hand and for the
 * CLI end-to-end tests: `pnpm exec node packages/pricing/test/support/serveFakeAws.ts [regions] [--latency-ms N]`.
 * Prints `FAKE_AWS_URL=http://127.0.0.1:PORT` on its first line. Send `price <region> <type> <usd>` on stdin
 * to change an on-demand price while it runs.
 */
import { createInterface } from "node:readline"
import { type ProductFixture, standardRegion, startFakeAws } from "./FakeAws.ts"

const args = process.argv.slice(2)
const latencyIndex = args.indexOf("--latency-ms")
const latencyMs = latencyIndex >= 0 ? Number(args[latencyIndex + 1]) : 0
const regionArg = args.find((arg, index) => !arg.startsWith("--") && index !== latencyIndex + 1) ?? "us-east-1,us-west-2"
const regions = new Map(regionArg.split(",").map((region) => [region, standardRegion(region)]))
const fake = await startFakeAws(regions, { latencyMs })
process.stdout.write(`FAKE_AWS_URL=${fake.url}\n`)

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, region, type, usd] = line.trim().split(/\s+/)
  const fixture = regions.get(region ?? "")
  if (command !== "price" || fixture === undefined || type === undefined || usd === undefined) return
  fixture.products = fixture.products.map((product): ProductFixture | string =>
    typeof product !== "string" && product.instanceType === type ? { ...product, onDemandUsd: Number(usd) } : product
  )
  process.stdout.write(`ok ${region} ${type} ${usd}\n`)
})
process.on("SIGTERM", () => void fake.close().then(() => process.exit(0)))
