/**
 * A throwaway PostgreSQL cluster for tests: Debian's binaries (`/usr/lib/postgresql/<version>/bin`, installed by
 * scripts/install-system-deps.sh), `initdb` into a temporary directory, the server on a free loopback port with
 * trust authentication for loopback only, removed when stopped. PostgreSQL refuses to run as root, so under root
 * (CI) the cluster runs as the `postgres` system user the Debian package creates.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"

export interface TestPostgres {
  /** `postgres://frugal@127.0.0.1:<port>/<database>` of a new, empty database. */
  readonly newDatabase: (name?: string) => Promise<string>
  readonly port: number
  /** The rows of one query against a database of this cluster (for tests that read what a server wrote). */
  readonly query: (url: string, sql: string) => Promise<ReadonlyArray<unknown>>
  /** Stops the server (fast shutdown) and removes its files. */
  readonly stop: () => Promise<void>
}

const binDirectory = (): string => {
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/install-system-deps.sh)")
  return join(root, newest, "bin")
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Under root: the `postgres` user's ids, which own the cluster and run the server. */
const serverUser = (): { readonly uid: number; readonly gid: number } | null => {
  if (process.getuid?.() !== 0) return null
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
  return { uid, gid }
}

const waitUntilReady = async (url: string, child: ChildProcess, log: () => string): Promise<void> => {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${log()}`)
    const client = new pg.Client({ connectionString: url })
    try {
      await client.connect()
      await client.end()
      return
    } catch {
      await client.end().catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  throw new Error(`postgres did not accept connections within 30 s: ${log()}`)
}

let databases = 0

export const startTestPostgres = async (): Promise<TestPostgres> => {
  const bin = binDirectory()
  const root = mkdtempSync(join(tmpdir(), "frugal-pg-"))
  const data = join(root, "data")
  const user = serverUser()
  if (user !== null) chownSync(root, user.uid, user.gid)
  const ids = user === null ? {} : { uid: user.uid, gid: user.gid }
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", "frugal", "-A", "trust", "-E", "UTF8", "--no-sync"], {
    ...ids,
    encoding: "utf8",
    cwd: root
  })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`)
  const port = await freePort()
  let log = ""
  const server = spawn(join(bin, "postgres"), [
    "-D", data,
    "-p", String(port),
    "-k", root,
    "-c", "listen_addresses=127.0.0.1",
    "-c", "fsync=off",
    "-c", "synchronous_commit=off",
    "-c", "full_page_writes=off",
    "-c", "max_connections=200"
  ], { ...ids, cwd: root, stdio: ["ignore", "ignore", "pipe"] })
  server.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    log = (log + chunk).slice(-4000)
  })
  const base = `postgres://frugal@127.0.0.1:${port}`
  await waitUntilReady(`${base}/postgres`, server, () => log)
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()))
  return {
    port,
    query: async (url, sql) => {
      // BIGINT (epoch milliseconds) as numbers, as the ledger reads them.
      const types = { getTypeParser: ((oid: number, format?: "text" | "binary") => (oid === 20 ? Number : pg.types.getTypeParser(oid, format ?? "text"))) as typeof pg.types.getTypeParser }
      const client = new pg.Client({ connectionString: url, types })
      await client.connect()
      try {
        return (await client.query(sql)).rows
      } finally {
        await client.end()
      }
    },
    newDatabase: async (name) => {
      const database = name ?? `t${process.pid}_${++databases}`
      const client = new pg.Client({ connectionString: `${base}/postgres` })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${database}`)
      } finally {
        await client.end()
      }
      return `${base}/${database}`
    },
    stop: async () => {
      if (server.exitCode === null) {
        server.kill("SIGINT")
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
        if (server.exitCode === null) server.kill("SIGKILL")
      }
      rmSync(root, { recursive: true, force: true })
    }
  }
}
