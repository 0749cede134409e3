/**
 * A loopback HTTP server speaking the slice of the Kubernetes API the engine uses: Jobs (create, read, delete),
 * Pods (watch stream of `{"type","object"}` lines), pod logs (`follow=true` streams until the container ends),
 * Events (list by `involvedObject.name`), Services and PersistentVolumeClaims. It plays the Job controller and
 * the kubelet: a created Job gets its pods; the test then starts pods, prints lines, and ends them the way a
 * cluster does (exit code, `DisruptionTarget` condition, deletion). Deleting a Job sends its running pods a
 * SIGTERM, which the stand-in trainer answers with exit 75.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

interface Json { readonly [key: string]: unknown }
type Pod = {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; resourceVersion: string }
  status: {
    phase: string
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>
    containerStatuses?: Array<{ name: string; state: Json }>
  }
}

interface PodLog {
  lines: Array<string>
  ended: boolean
  followers: Set<ServerResponse>
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {}

export class FakeKubernetesApi {
  readonly requests: Array<string> = []
  readonly jobs = new Map<string, Json>()
  /** Names of every Job created, in order (deleted ones too). */
  readonly createdJobs: Array<string> = []
  /** The body of every Job created, in order, as it arrived. */
  readonly createdJobBodies: Array<Json> = []
  readonly pods = new Map<string, Pod>()
  readonly services = new Set<string>()
  readonly claims = new Map<string, Json>()
  readonly events: Array<{ podName: string; type: string; reason: string; message: string }> = []
  private readonly logs = new Map<string, PodLog>()
  private readonly watchers = new Set<{ selector: [string, string] | null; response: ServerResponse }>()
  private readonly server: Server
  private version = 1
  private podCounter = 0
  url = ""

  constructor() {
    this.server = createServer((request, response) => {
      let body = ""
      request.setEncoding("utf8")
      request.on("data", (chunk: string) => (body += chunk))
      request.on("end", () => this.route(request, response, body))
    })
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve))
    const address: AddressInfo | string | null = this.server.address()
    this.url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.response.end()
    for (const log of this.logs.values()) for (const follower of log.followers) follower.end()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Pods the Job controller made for a Job, index 0 first. */
  podsOf(jobName: string): Array<string> {
    return [...this.pods.values()]
      .filter((pod) => pod.metadata.labels["batch.kubernetes.io/job-name"] === jobName)
      .sort((a, b) => Number(a.metadata.annotations["batch.kubernetes.io/job-completion-index"]) - Number(b.metadata.annotations["batch.kubernetes.io/job-completion-index"]))
      .map((pod) => pod.metadata.name)
  }

  runPod(name: string): void {
    const pod = this.pod(name)
    pod.status = { phase: "Running", containerStatuses: [{ name: "trainer", state: { running: { startedAt: new Date().toISOString() } } }] }
    this.emit("MODIFIED", pod)
  }

  /** The scheduler finds no node for the pod: Pending, PodScheduled=False with reason Unschedulable. */
  unschedulablePod(name: string, message: string): void {
    const pod = this.pod(name)
    pod.status = { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }] }
    this.emit("MODIFIED", pod)
  }

  print(name: string, line: string): void {
    const log = this.log(name)
    log.lines.push(line)
    for (const follower of log.followers) follower.write(`${line}\n`)
  }

  /** The container exits; with `disruption` the pod also carries DisruptionTarget; `deleted` removes it. */
  endPod(name: string, exitCode: number, options: { readonly disruption?: boolean; readonly deleted?: boolean } = {}): void {
    const pod = this.pod(name)
    pod.status = {
      phase: exitCode === 0 ? "Succeeded" : "Failed",
      ...(options.disruption === true
        ? { conditions: [{ type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager" }] }
        : {}),
      containerStatuses: [{ name: "trainer", state: { terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error" } } }]
    }
    if (options.disruption === true) {
      this.events.push({ podName: name, type: "Warning", reason: "SpotInterrupted", message: "Spot instance reclaimed: node terminating" })
    }
    const log = this.log(name)
    log.ended = true
    for (const follower of log.followers) follower.end()
    log.followers.clear()
    this.emit("MODIFIED", pod)
    if (options.deleted === true) {
      this.pods.delete(name)
      this.emit("DELETED", pod)
    }
  }

  private pod(name: string): Pod {
    const pod = this.pods.get(name)
    if (pod === undefined) throw new Error(`no pod ${name}`)
    return pod
  }

  private log(name: string): PodLog {
    let log = this.logs.get(name)
    if (log === undefined) {
      log = { lines: [], ended: false, followers: new Set() }
      this.logs.set(name, log)
    }
    return log
  }

  private emit(type: string, pod: Pod): void {
    pod.metadata.resourceVersion = String(++this.version)
    for (const watcher of this.watchers) {
      if (watcher.selector === null || pod.metadata.labels[watcher.selector[0]] === watcher.selector[1]) {
        watcher.response.write(`${JSON.stringify({ type, object: { apiVersion: "v1", kind: "Pod", ...pod } })}\n`)
      }
    }
  }

  private json(response: ServerResponse, status: number, value: unknown): void {
    response.writeHead(status, { "content-type": "application/json" })
    response.end(JSON.stringify(value))
  }

  private notFound(response: ServerResponse, what: string): void {
    this.json(response, 404, { kind: "Status", apiVersion: "v1", status: "Failure", message: `${what} not found`, reason: "NotFound", code: 404 })
  }

  private route(request: IncomingMessage, response: ServerResponse, body: string): void {
    const url = new URL(request.url ?? "/", "http://localhost")
    const method = request.method ?? "GET"
    this.requests.push(`${method} ${url.pathname}${url.search}`)
    const path = url.pathname
    let match: RegExpExecArray | null

    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/persistentvolumeclaims(?:\/([^/]+))?$/.exec(path)) !== null) {
      const name = match[2]
      if (method === "GET" && name !== undefined) {
        const claim = this.claims.get(name)
        return claim === undefined ? this.notFound(response, `persistentvolumeclaims "${name}"`) : this.json(response, 200, claim)
      }
      if (method === "POST") {
        const claim: Json = JSON.parse(body)
        this.claims.set(String(record(claim["metadata"])["name"]), claim)
        return this.json(response, 201, claim)
      }
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/services(?:\/([^/]+))?$/.exec(path)) !== null) {
      if (method === "POST") {
        const service: Json = JSON.parse(body)
        this.services.add(String(record(service["metadata"])["name"]))
        return this.json(response, 201, service)
      }
      if (method === "DELETE" && match[2] !== undefined) {
        const existed = this.services.delete(match[2])
        return existed ? this.json(response, 200, { kind: "Status", status: "Success" }) : this.notFound(response, "service")
      }
    }
    if ((match = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(path)) !== null) {
      const namespace = match[1] ?? "default"
      const name = match[2]
      if (method === "POST") return this.createJob(response, namespace, JSON.parse(body))
      if (name !== undefined && method === "GET") {
        const job = this.jobs.get(name)
        return job === undefined ? this.notFound(response, `jobs.batch "${name}"`) : this.json(response, 200, job)
      }
      if (name !== undefined && method === "DELETE") {
        const job = this.jobs.get(name)
        if (job === undefined) return this.notFound(response, `jobs.batch "${name}"`)
        this.jobs.delete(name)
        this.json(response, 200, { kind: "Status", status: "Success" })
        // Garbage collection: the kubelet sends SIGTERM; the trainer checkpoints and exits 75; the pod goes.
        for (const podName of this.podsOf(name)) {
          const pod = this.pod(podName)
          if (pod.status.phase === "Running" || pod.status.phase === "Pending") this.endPod(podName, 75, { deleted: true })
          else {
            this.pods.delete(podName)
            this.emit("DELETED", pod)
          }
        }
        return
      }
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) !== null && url.searchParams.get("watch") === "true") {
      const selector = url.searchParams.get("labelSelector")
      const [key, value] = (selector ?? "").split("=")
      const watcher = { selector: key !== undefined && value !== undefined ? [key, value] as [string, string] : null, response }
      response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
      this.watchers.add(watcher)
      response.on("close", () => this.watchers.delete(watcher))
      for (const pod of this.pods.values()) {
        if (watcher.selector === null || pod.metadata.labels[watcher.selector[0]] === watcher.selector[1]) {
          response.write(`${JSON.stringify({ type: "ADDED", object: { apiVersion: "v1", kind: "Pod", ...pod } })}\n`)
        }
      }
      return
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path)) !== null && match[2] !== undefined) {
      const log = this.log(match[2])
      response.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" })
      for (const line of log.lines) response.write(`${line}\n`)
      if (log.ended || url.searchParams.get("follow") !== "true") {
        response.end()
        return
      }
      log.followers.add(response)
      response.on("close", () => log.followers.delete(response))
      return
    }
    if ((match = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(path)) !== null) {
      const wanted = (url.searchParams.get("fieldSelector") ?? "").replace(/^involvedObject\.name=/, "")
      const items = this.events.filter((event) => event.podName === wanted).map((event) => ({
        metadata: { name: `${event.podName}.${event.reason}` },
        involvedObject: { kind: "Pod", name: event.podName },
        type: event.type,
        reason: event.reason,
        message: event.message
      }))
      return this.json(response, 200, { kind: "EventList", apiVersion: "v1", metadata: {}, items })
    }
    this.notFound(response, `${method} ${path}`)
  }

  private createJob(response: ServerResponse, namespace: string, job: Json): void {
    const metadata = record(job["metadata"])
    const name = String(metadata["name"])
    if (this.jobs.has(name)) return this.json(response, 409, { kind: "Status", status: "Failure", reason: "AlreadyExists", code: 409 })
    this.jobs.set(name, job)
    this.createdJobs.push(name)
    this.createdJobBodies.push(job)
    const spec = record(job["spec"])
    const template = record(spec["template"])
    const labels = Object.fromEntries(Object.entries(record(record(template["metadata"])["labels"])).map(([k, v]) => [k, String(v)]))
    const completions = typeof spec["completions"] === "number" ? spec["completions"] : 1
    this.json(response, 201, job)
    for (let index = 0; index < completions; index++) {
      const podName = `${name}-${index}-${(++this.podCounter).toString(36).padStart(5, "x")}`
      const pod: Pod = {
        metadata: {
          name: podName,
          namespace,
          labels: { ...labels, "batch.kubernetes.io/job-name": name },
          annotations: { "batch.kubernetes.io/job-completion-index": String(index) },
          resourceVersion: "0"
        },
        status: { phase: "Pending" }
      }
      this.pods.set(podName, pod)
      this.emit("ADDED", pod)
    }
  }
}
