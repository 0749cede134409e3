/**
 * `/frugal submit` and `/frugal queue` (with a Cancel button per job) through `frugal server`'s API, as the team whose
 * token the bot holds (FRUGAL_SERVER, FRUGAL_TOKEN): the bot decides nothing, the server checks, prices and queues.
 * Names, teams and reasons come from users and are escaped before they reach mrkdwn.
 */
import { InvalidInput } from "@frugal/core"
import { cancelJob, type ClientError, type JobSummary, listJobs, type ServerAccess, submitJob } from "@frugal/scheduler/api"
import { clip, escapeMrkdwn, MAX_BLOCKS, mrkdwn, plain, type Block, type SlackMessage } from "@frugal/waste"
import { Effect } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { withinLimits } from "./Messages.ts"

/** Action id of a queue message's Cancel buttons; the value is the job id. */
export const CANCEL_ACTION = "frugal_cancel"

const QUEUE_JOBS_SHOWN = 20

const money = (value: number): string => (value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`)

/** `<name>` is an example (`examples/<name>.yaml`); anything else is an inline YAML or JSON spec. */
const specText = (spec: string, examplesDir: string): Effect.Effect<string, InvalidInput> => {
  if (!/^[a-z0-9-]{1,63}$/.test(spec)) return Effect.succeed(spec)
  return Effect.tryPromise({
    try: () => readFile(join(examplesDir, `${spec}.yaml`), "utf8"),
    catch: () =>
      new InvalidInput({
        source: "/frugal submit",
        issues: [{ path: "example", expected: "the name of an example workload (tiny-train, llama-7b-lora, ...) or an inline spec", actual: spec }]
      })
  })
}

export const submitAnswer = (
  access: ServerAccess,
  request: { readonly spec: string; readonly priority: number | undefined; readonly team: string | undefined },
  examplesDir: string
): Effect.Effect<SlackMessage, ClientError> =>
  Effect.gen(function*() {
    const workload = yield* specText(request.spec, examplesDir)
    const answer = yield* submitJob(access, {
      workload,
      ...(request.priority === undefined ? {} : { priority: request.priority }),
      ...(request.team === undefined ? {} : { team: request.team })
    })
    return withinLimits({
      text: `Queued ${answer.id}`,
      blocks: [{
        type: "section",
        text: mrkdwn(`:inbox_tray: Queued \`${escapeMrkdwn(answer.id)}\`: expected ${money(answer.expectedCostUsd)}, ${answer.gpus} GPUs. \`/frugal queue\` shows where it stands.`)
      }]
    })
  })

const jobLine = (job: JobSummary): string =>
  `*${escapeMrkdwn(job.name)}* \`${escapeMrkdwn(job.id)}\`: ${job.state}${job.reason === null ? "" : ` (waits for ${job.reason})`}` +
  ` · team ${escapeMrkdwn(job.team)} · priority ${job.priority} · ${money(job.costUsd)} of ${money(job.expectedCostUsd)} expected` +
  (job.detail === null || job.state !== "queued" ? "" : `\n_${escapeMrkdwn(clip(job.detail, 300))}_`)

export const queueMessage = (jobs: ReadonlyArray<JobSummary>): SlackMessage => {
  const live = jobs.filter((job) => job.state === "queued" || job.state === "running")
  const shown = live.slice(0, Math.min(QUEUE_JOBS_SHOWN, Math.floor((MAX_BLOCKS - 2) / 2)))
  const blocks: Array<Block> = [{ type: "header", text: plain(`Queue: ${live.length} waiting or running`, 150) }]
  for (const job of shown) {
    blocks.push({ type: "section", text: mrkdwn(jobLine(job)) })
    blocks.push({
      type: "actions",
      block_id: `cancel-${job.id}`.slice(0, 255),
      elements: [{ type: "button", action_id: CANCEL_ACTION, text: plain(job.state === "running" ? "Stop" : "Cancel", 75), value: job.id }]
    })
  }
  if (live.length === 0) blocks.push({ type: "section", text: mrkdwn("Nothing is waiting or running.") })
  if (live.length > shown.length) blocks.push({ type: "context", elements: [mrkdwn(`…and ${live.length - shown.length} more: \`frugal queue\` lists them all.`)] })
  return withinLimits({ text: `Queue: ${live.length} waiting or running`, blocks })
}

export const queueAnswer = (access: ServerAccess): Effect.Effect<SlackMessage, ClientError> =>
  Effect.map(listJobs(access), (answer) => queueMessage(answer.jobs))

export const cancelAnswer = (access: ServerAccess, jobId: string): Effect.Effect<SlackMessage, ClientError> =>
  Effect.map(cancelJob(access, jobId), (answer) =>
    withinLimits({
      text: `${answer.id}: ${answer.state}`,
      blocks: [{
        type: "section",
        text: mrkdwn(
          answer.state === "running"
            ? `:octagonal_sign: Stopping \`${escapeMrkdwn(answer.id)}\`: it writes a final checkpoint first.`
            : `:wastebasket: \`${escapeMrkdwn(answer.id)}\` is ${answer.state}.`
        )
      }]
    }))
