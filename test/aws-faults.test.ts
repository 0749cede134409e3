/**
 * Fault injection at every AWS call site, through the real `frugal` process and the real AWS SDK clients: an
 * endpoint that accepts connections and never answers, one that never answers a request, persistent throttling,
 * HTTP 500, garbage and truncated answers. Each must end in bounded time with a clear exit code and message, no
 * stack trace, and nothing cached from a bad answer.
 *
 * To add a call site (the EC2 runner, Service Quotas): add a row to `SITES` with the command to run, the server
 * to point it at, which requests to break, and what the command must do when they break.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { standardRegion, startFakeAws } from "../packages/pricing/test/support/FakeAws.ts"
import { awsJsonOperation } from "./support/aws/AwsJson.ts"
import { isEc2Query } from "./support/aws/Ec2Query.ts"
import { billingServiceOf, fakeBillingHandler } from "./support/aws/FakeBilling.ts"
import { type Fault, HTTP_FAULTS, type HttpFault, startSilentServer, withFault } from "./support/aws/Faults.ts"
import { type LoopbackRequest, startLoopbackServer } from "./support/aws/LoopbackServer.ts"
import { example, type FrugalRun, runFrugal, STACK_FRAME, startFrugal } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-aws-faults-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A profile with one AWS region, so that `plan --catalog aws` asks Service Quotas for it. */
const profileFile = join(dir, "infra.yaml")
writeFileSync(profileFile, "aws:\n  regions:\n    us-east-1: { subnets: { use1-az1: subnet-0a1b2c3d4e5f60001 }, image: ami-0123456789abcdef0 }\n")

/** Short timeouts so a broken call costs seconds: 1 s an attempt, 2 attempts, 4 s a call. */
const FAST = { FRUGAL_AWS_TIMEOUT_SECONDS: "1", FRUGAL_AWS_DEADLINE_SECONDS: "4", AWS_MAX_ATTEMPTS: "2" }
/** Far more than any of these runs needs; a hang would blow through it. */
const BOUND_SECONDS = 45

let caseNumber = 0
const awsEnv = (url: string) => {
  const home = join(dir, `case-${++caseNumber}`)
  return {
    cache: join(home, "cache"),
    env: {
      ...FAST,
      AWS_ENDPOINT_URL: url,
      AWS_ACCESS_KEY_ID: "AKIDLOOPBACKTEST",
      AWS_SECRET_ACCESS_KEY: "loopback-secret",
      AWS_REGION: "us-east-1",
      AWS_PROFILE: "",
      FRUGAL_CACHE_DIR: join(home, "cache"),
      FRUGAL_HOME: join(home, "home"),
      XDG_CONFIG_HOME: join(home, "config"),
      FRUGAL_PRICING_CONFIG: ""
    }
  }
}

const cachedFiles = (cache: string): ReadonlyArray<string> =>
  existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String).filter((name) => name.endsWith(".json")).sort() : []

const pricingOperation = (request: LoopbackRequest): string =>
  isEc2Query(request) ? new URLSearchParams(request.body).get("Action") ?? "" : awsJsonOperation(request) ?? "GET price list file"

interface Outcome {
  readonly run: FrugalRun
  readonly cache: string
}

interface Site {
  readonly name: string
  /** Runs the command against `fault` injected where the site says, on a fresh server and cache. */
  readonly run: (fault: Fault) => Promise<Outcome>
  /** What the command must do when its calls break. */
  readonly expect: (outcome: Outcome, fault: Fault) => void
}

/** The market server with `pick`'s requests broken (or a silent server for `silent`). */
const withMarket = async (fault: Fault, pick: (request: LoopbackRequest) => boolean, args: (cache: string) => ReadonlyArray<string>): Promise<Outcome> => {
  if (fault === "silent") {
    const silent = await startSilentServer()
    try {
      const { cache, env } = awsEnv(silent.url)
      return { run: await runFrugal(args(cache), { env }), cache }
    } finally {
      await silent.close()
    }
  }
  const fake = await startFakeAws(new Map([["us-east-1", standardRegion("us-east-1")]]))
  const real = fake.server
  // The fake's own handler answers, except for the requests `pick` names, which get the fault.
  const broken: HttpFault = fault
  fake.setFault(undefined)
  const server = await startLoopbackServer(withFault((request) => forward(real.url, request), (request) => (pick(request) ? broken : undefined)))
  try {
    const { cache, env } = awsEnv(server.url)
    return { run: await runFrugal(args(cache), { env }), cache }
  } finally {
    await server.close()
    await fake.close()
  }
}

/** Passes a request on to another loopback server and returns its answer. */
const forward = async (url: string, request: LoopbackRequest) => {
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined && key !== "host" && key !== "content-length" && key !== "connection") headers[key] = Array.isArray(value) ? value.join(",") : value
  }
  const response = await fetch(`${url}${request.url}`, {
    method: request.method,
    headers,
    ...(request.method === "GET" || request.method === "HEAD" ? {} : { body: request.body })
  })
  const answerHeaders: Record<string, string> = {}
  response.headers.forEach((value, key) => {
    if (key !== "content-length" && key !== "transfer-encoding" && key !== "connection" && key !== "keep-alive") answerHeaders[key] = value
  })
  return { status: response.status, headers: answerHeaders, body: await response.text() }
}

/** The billing server (Cost Explorer + CloudWatch) with `pick`'s requests broken. */
const withBilling = async (fault: Fault, pick: (request: LoopbackRequest) => boolean, args: ReadonlyArray<string>): Promise<Outcome> => {
  if (fault === "silent") {
    const silent = await startSilentServer()
    try {
      const { cache, env } = awsEnv(silent.url)
      return { run: await runFrugal(args, { env }), cache }
    } finally {
      await silent.close()
    }
  }
  const broken: HttpFault = fault
  const server = await startLoopbackServer(withFault(fakeBillingHandler(), (request) => (pick(request) ? broken : undefined)))
  try {
    const { cache, env } = awsEnv(server.url)
    return { run: await runFrugal(args, { env }), cache }
  } finally {
    await server.close()
  }
}

const clean = (run: FrugalRun) => {
  expect(run.stderr).not.toMatch(STACK_FRAME)
  expect(run.stderr).not.toContain("This is a bug")
  expect(run.milliseconds / 1000).toBeLessThan(BOUND_SECONDS)
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const SITES: ReadonlyArray<Site> = [
  {
    name: "prices refresh, Pricing GetProducts broken",
    run: (fault) =>
      withMarket(fault, (request) => pricingOperation(request) === "GetProducts", () => ["prices", "refresh", "--regions", "us-east-1", "--kinds", "on-demand,spot"]),
    expect: ({ cache, run }, fault) => {
      clean(run)
      // One kind fetched and cached while the other failed is a partial refresh (exit 5); nothing at all is exit 4.
      expect(run.code).toBe(fault === "silent" ? 4 : 5)
      expect(run.stderr).toMatch(fault === "silent" ? /error: AWS (EC2|Pricing) \w+ in us-east-1 failed/ : /error: the refresh is partial: us-east-1 on-demand \(Pricing GetProducts\)/)
      // The broken kind is not cached; with the whole endpoint silent, nothing is.
      expect(cachedFiles(cache)).not.toContain(join("aws", "us-east-1", "on-demand.json"))
      if (fault === "silent") expect(cachedFiles(cache)).toEqual([])
      else expect(cachedFiles(cache)).toContain(join("aws", "us-east-1", "spot.json"))
    }
  },
  {
    name: "prices refresh, EC2 DescribeSpotPriceHistory broken",
    run: (fault) =>
      withMarket(fault, (request) => pricingOperation(request) === "DescribeSpotPriceHistory", () => ["prices", "refresh", "--regions", "us-east-1", "--kinds", "on-demand,spot"]),
    expect: ({ cache, run }, fault) => {
      clean(run)
      expect(run.code).toBe(fault === "silent" ? 4 : 5)
      if (fault !== "silent") {
        expect(run.stderr).toMatch(/error: the refresh is partial: us-east-1 spot \(EC2 DescribeSpotPriceHistory\)/)
        expect(cachedFiles(cache)).toContain(join("aws", "us-east-1", "on-demand.json"))
      }
      expect(cachedFiles(cache)).not.toContain(join("aws", "us-east-1", "spot.json"))
    }
  },
  {
    name: "plan --catalog aws with an empty cache, every call broken",
    run: (fault) =>
      withMarket(fault, () => true, () => ["plan", example("inference-24x7.yaml"), "--catalog", "aws", "--json", "--top", "3"]),
    expect: ({ cache, run }) => {
      clean(run)
      expect(run.code).toBe(0)
      const plan: unknown = JSON.parse(run.stdout)
      const catalog = isRecord(plan) ? plan["catalog"] : undefined
      expect(isRecord(catalog) ? catalog["source"] : undefined).toBe("embedded")
      const notes = isRecord(catalog) && Array.isArray(catalog["notes"]) ? catalog["notes"].join("\n") : ""
      // The plan says why it did not use AWS.
      expect(notes).toMatch(/AWS unreachable for us-east-1|AWS did not finish answering within/)
      expect(cachedFiles(cache)).toEqual([])
    }
  },
  {
    name: "prices refresh --kinds quotas, Service Quotas GetServiceQuota broken",
    run: (fault) =>
      withMarket(fault, (request) => awsJsonOperation(request) === "GetServiceQuota", () => ["prices", "refresh", "--regions", "us-east-1", "--kinds", "quotas"]),
    expect: ({ cache, run }) => {
      clean(run)
      // Nothing else was asked for, so nothing was refreshed: a remote failure, and no quota cached from it.
      expect(run.code).toBe(4)
      expect(run.stderr).toMatch(/error: AWS ServiceQuotas GetServiceQuota in us-east-1 failed/)
      expect(cachedFiles(cache)).not.toContain(join("aws", "us-east-1", "quotas.json"))
    }
  },
  {
    name: "plan --catalog aws --infra, Service Quotas GetServiceQuota broken",
    run: (fault) =>
      withMarket(fault, (request) => awsJsonOperation(request) === "GetServiceQuota", () => [
        "plan",
        example("llama-7b-finetune.yaml"),
        "--infra",
        profileFile,
        "--catalog",
        "aws",
        "--json",
        "--top",
        "3"
      ]),
    expect: ({ cache, run }) => {
      clean(run)
      // The plan is made all the same; it says the quotas are unknown, and marks nothing.
      expect(run.code).toBe(0)
      const plan: unknown = JSON.parse(run.stdout)
      const notes = isRecord(plan) && Array.isArray(plan["notes"]) ? plan["notes"].join("\n") : ""
      expect(notes).toMatch(/EC2 quotas in us-east-1 unknown: AWS ServiceQuotas GetServiceQuota in us-east-1 failed/)
      const options = isRecord(plan) && Array.isArray(plan["options"]) ? plan["options"] : []
      expect(options.length).toBeGreaterThan(0)
      expect(options.every((option: unknown) => isRecord(option) && option["quota"] === undefined)).toBe(true)
      expect(cachedFiles(cache)).not.toContain(join("aws", "us-east-1", "quotas.json"))
    }
  },
  {
    name: "report, Cost Explorer's spend query broken",
    run: (fault) =>
      withBilling(fault, (request) => awsJsonOperation(request) === "GetCostAndUsage" && request.body.includes("PURCHASE_TYPE"), ["report", "--format", "json"]),
    expect: ({ run }) => {
      clean(run)
      // Without the spend there is no report: a remote failure, after retries.
      expect(run.code).toBe(4)
      expect(run.stdout).toBe("")
      expect(run.stderr).toMatch(/error: AWS Cost Explorer GetCostAndUsage in us-east-1 failed/)
    }
  },
  {
    name: "report, Cost Explorer GetReservationUtilization broken",
    run: (fault) =>
      withBilling(fault, (request) => awsJsonOperation(request) === "GetReservationUtilization", ["report", "--format", "json"]),
    expect: ({ run }, fault) => {
      clean(run)
      if (fault === "silent") {
        expect(run.code).toBe(4)
        return
      }
      // The report keeps what it got, names the broken call, and exits 5 (partial).
      expect(run.code).toBe(5)
      const report: unknown = JSON.parse(run.stdout)
      expect(report).toMatchObject({ period: { start: "2026-11-02", end: "2026-11-09" }, totalCostUsd: 4614.56, partial: true })
      const unavailable = isRecord(report) && Array.isArray(report["unavailable"]) ? report["unavailable"] : []
      expect(unavailable).toEqual([expect.objectContaining({ service: "AWS Cost Explorer", operation: "GetReservationUtilization" })])
      const kinds = isRecord(report) && Array.isArray(report["findings"]) ? report["findings"].map((finding: unknown) => isRecord(finding) ? finding["kind"] : "") : []
      expect(kinds).not.toContain("unused-commitment")
      expect(kinds).toContain("idle-gpu")
      expect(run.stderr).toContain("error: the report is partial: AWS Cost Explorer GetReservationUtilization: ")
    }
  },
  {
    name: "report, CloudWatch GetMetricData broken",
    run: (fault) => withBilling(fault, (request) => billingServiceOf(request) === "CloudWatch", ["report", "--format", "md"]),
    expect: ({ run }, fault) => {
      clean(run)
      if (fault === "silent") {
        expect(run.code).toBe(4)
        return
      }
      expect(run.code).toBe(5)
      expect(run.stdout).toContain("Spend $4,614.56")
      expect(run.stdout).toContain("**Partial report: the findings that need these sources are missing.**")
      expect(run.stdout).toContain("- Could not read AWS CloudWatch GetMetricData: ")
      expect(run.stdout).toContain("GPU utilisation could not be read: idle and oversized GPUs not checked.")
      expect(run.stderr).toContain("error: the report is partial: AWS CloudWatch GetMetricData: ")
    }
  }
]

const FAULTS: ReadonlyArray<Fault> = [...HTTP_FAULTS, "silent"]

for (const site of SITES) {
  describe.concurrent(site.name, () => {
    for (const fault of FAULTS) {
      it(fault, async () => site.expect(await site.run(fault), fault), 90_000)
    }
  })
}

describe("a signal ends a command that waits on AWS", () => {
  it("the first SIGINT stops prices refresh against an endpoint that never answers, with exit 130", async () => {
    const silent = await startSilentServer()
    try {
      // Default timeouts: a minute per call. The signal must not wait for them.
      const { env } = awsEnv(silent.url)
      const refresh = startFrugal(["prices", "refresh", "--regions", "us-east-1"], {
        env: { ...env, FRUGAL_AWS_TIMEOUT_SECONDS: "", FRUGAL_AWS_DEADLINE_SECONDS: "", AWS_MAX_ATTEMPTS: "" }
      })
      for (let i = 0; i < 300 && silent.connections() === 0; i++) await new Promise((done) => setTimeout(done, 100))
      expect(silent.connections()).toBeGreaterThan(0)
      const signalledAt = performance.now()
      refresh.child.kill("SIGINT")
      const run = await refresh.done
      expect(run.code).toBe(130)
      expect(run.stderr).not.toMatch(STACK_FRAME)
      // Far under the minute a call could take.
      expect((performance.now() - signalledAt) / 1000).toBeLessThan(20)
    } finally {
      await silent.close()
    }
  }, 90_000)
})
