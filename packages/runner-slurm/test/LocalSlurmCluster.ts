/**
 * A one-node Slurm cluster on loopback for tests, from Debian's `slurm-wlm` and `munge`: a generated
 * slurm.conf in a temporary directory (state and spool there too), a fresh munge key and a `munged` on its own
 * socket, then `slurmctld -D` and `slurmd -D` in the foreground as children of the test, so stopping the test
 * stops them. Needs root (slurmd starts jobs as their user) and the binaries; says exactly what is missing.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"

export interface LocalSlurmCluster {
  readonly directory: string
  readonly partition: string
  /** SLURM_CONF and friends, for every Slurm command the test or `frugal` runs. */
  readonly env: Record<string, string>
  readonly stop: () => Promise<void>
}

const REQUIRED = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "scancel", "sinfo"]

const which = (program: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v "$0"`, program], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/** Why this machine cannot host the test cluster; null when it can. */
export const slurmPrerequisiteProblem = (): string | null => {
  const missing = REQUIRED.filter((program) => !which(program))
  if (missing.length > 0) {
    return `the Slurm test needs ${missing.join(", ")} on PATH: apt-get install -y slurm-wlm munge`
  }
  if (process.getuid?.() !== 0) return "the Slurm test must run as root (slurmd starts jobs as their user)"
  return null
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

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()))
  child.kill("SIGTERM")
  const done = await Promise.race([closed.then(() => true), sleep(5000).then(() => false)])
  if (!done) {
    child.kill("SIGKILL")
    await closed
  }
}

export const startLocalSlurmCluster = async (): Promise<LocalSlurmCluster> => {
  const problem = slurmPrerequisiteProblem()
  if (problem !== null) throw new Error(problem)
  // Short path: the munge socket path must fit in a Unix socket address (108 bytes).
  const directory = mkdtempSync(join(tmpdir(), "frugal-slurm-"))
  for (const sub of ["state", "spool", "log", "run"]) mkdirSync(join(directory, sub))
  const socket = join(directory, "run", "munge.sock")
  const key = join(directory, "munge.key")
  const children: Array<ChildProcess> = []
  const logOf = (name: string) => join(directory, "log", name)

  const stop = async () => {
    const env = { ...process.env, SLURM_CONF: join(directory, "slurm.conf") }
    try {
      // Jobs first, so no slurmstepd outlives the cluster.
      execFileSync("scancel", ["--full", "--user=root"], { env, stdio: "ignore", timeout: 10_000 })
      for (let i = 0; i < 20; i++) {
        const left = execFileSync("squeue", ["--noheader", "--format=%i"], { env, encoding: "utf8", timeout: 10_000 }).trim()
        if (left === "") break
        await sleep(500)
      }
    } catch {
      // the controller may already be down
    }
    for (const child of [...children].reverse()) await stopChild(child)
    rmSync(directory, { recursive: true, force: true })
  }

  try {
    execFileSync("mungekey", ["--create", `--keyfile=${key}`, "--bits=1024"], { stdio: "ignore" })
    const munged = spawn("munged", [
      "--foreground",
      "--force",
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--pid-file=${join(directory, "run", "munged.pid")}`,
      `--log-file=${logOf("munged.log")}`,
      `--seed-file=${join(directory, "run", "munged.seed")}`
    ], { stdio: "ignore" })
    children.push(munged)
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100)
    if (!existsSync(socket)) throw new Error(`munged did not create ${socket}`)

    const [controllerPort, nodePort] = [await freePort(), await freePort()]
    const memoryMiB = Math.floor((totalmem() / 1024 / 1024) * 0.8)
    const conf = [
      "ClusterName=frugaltest",
      "SlurmctldHost=localhost",
      `SlurmctldPort=${controllerPort}`,
      `SlurmdPort=${nodePort}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      `StateSaveLocation=${join(directory, "state")}`,
      `SlurmdSpoolDir=${join(directory, "spool")}`,
      `SlurmctldPidFile=${join(directory, "run", "slurmctld.pid")}`,
      `SlurmdPidFile=${join(directory, "run", "slurmd.pid")}`,
      `SlurmctldLogFile=${logOf("slurmctld.log")}`,
      `SlurmdLogFile=${logOf("slurmd.log")}`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "JobCompType=jobcomp/none",
      "AccountingStorageType=accounting_storage/none",
      "MpiDefault=none",
      "ReturnToService=2",
      "SchedulerType=sched/backfill",
      "KillWait=30",
      // Two stand-in "GPUs" (gres.conf names /dev/null and /dev/zero as their devices), so jobs may ask --gpus-per-node.
      "GresTypes=gpu",
      `NodeName=localhost CPUs=${cpus().length} RealMemory=${memoryMiB} Gres=gpu:2 State=UNKNOWN`,
      "PartitionName=frugal Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
      // A second partition on the same node: a profile can offer one as preemptible and the other as on-demand.
      "PartitionName=frugal-od Nodes=localhost MaxTime=INFINITE State=UP",
      ""
    ].join("\n")
    const confPath = join(directory, "slurm.conf")
    writeFileSync(confPath, conf)
    writeFileSync(join(directory, "gres.conf"), "AutoDetect=off\nNodeName=localhost Name=gpu File=/dev/null\nNodeName=localhost Name=gpu File=/dev/zero\n")
    const env = { SLURM_CONF: confPath }
    const daemonEnv = { ...process.env, ...env }
    children.push(spawn("slurmctld", ["-D", "-f", confPath], { env: daemonEnv, stdio: "ignore" }))
    children.push(spawn("slurmd", ["-D", "-N", "localhost", "-f", confPath], { env: daemonEnv, stdio: "ignore" }))

    let lastState = "(none)"
    for (let i = 0; i < 60; i++) {
      try {
        const state = execFileSync("sinfo", ["--noheader", "--format=%T"], { env: daemonEnv, encoding: "utf8", timeout: 5000 }).trim()
        lastState = `${state} ${execFileSync("sinfo", ["--noheader", "-R"], { env: daemonEnv, encoding: "utf8", timeout: 5000 }).trim()}`
        // One line per partition (the node is in both).
        if (state !== "" && state.split("\n").every((line) => line.trim() === "idle")) return { directory, partition: "frugal", env, stop }
      } catch {
        // controller not up yet
      }
      await sleep(500)
    }
    const tail = (name: string) => (existsSync(logOf(name)) ? readFileSync(logOf(name), "utf8").slice(-4000) : "(no log)")
    throw new Error(`the test Slurm cluster did not become idle in 30 s (sinfo: ${lastState})\nslurmctld: ${tail("slurmctld.log")}\nslurmd: ${tail("slurmd.log")}`)
  } catch (error) {
    await stop()
    throw error
  }
}
