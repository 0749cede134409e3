/**
 * The user data an EC2 attempt boots with: a bash script (cloud-init runs it as root once) that brings the
 * checkpoints in, runs the command, keeps the checkpoints, records the exit code as an instance tag and powers
 * off (the instance is launched with shutdown behaviour "terminate", so powering off ends the bill).
 * Pure text generation: every value is single-quoted for the shell, so metacharacters stay plain text.
 *
 * Checkpoints live at an S3 URI (`s3://bucket/prefix`, synced down before and up after, and every minute while
 * the command runs) or on EFS (`efs://fs-0123/path`, mounted with amazon-efs-utils). The trainer library polls
 * IMDSv2 for the spot interruption notice itself (FRUGAL_IMDS_POLL=1) and checkpoints before the reclaim.
 *
 * Several nodes: every instance runs the same script, finds its rank and node 0 at boot (see Rendezvous) and
 * runs one torchrun that meets the others at node 0.
 */
import { standalone, torchrunArgv } from "@frugal/runner"
import { type MultiNode, rendezvousLines, torchrunLine } from "./Rendezvous.ts"
import { shellQuote } from "./Shell.ts"

export interface UserDataInput {
  readonly jobId: string
  readonly attemptId: string
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** `s3://bucket/prefix` or `efs://fs-id/path`, the store's region, and the SSE-KMS key for what is written. */
  readonly checkpoints: { readonly uri: string; readonly region: string; readonly kmsKeyId: string | null }
  /** Commands run before the job (as root), e.g. to fetch the code; one shell line each, from the operator. */
  readonly setupCommands: ReadonlyArray<string>
  readonly checkpointEverySeconds: number | null
  /** Set when the attempt runs on several instances; absent or null for one. */
  readonly multiNode?: MultiNode | null
  /** Processes on one instance: above 1, the argv runs under torchrun with a standalone rendezvous. */
  readonly processesPerNode?: number
  /** What starts torchrun on the instance; absent: `torchrun`. */
  readonly torchrunProgram?: readonly [string, ...Array<string>] | undefined
}

export { shellQuote }

export const LOCAL_CHECKPOINT_DIR = "/var/lib/frugal/checkpoints"
export const ATTEMPT_LOG = "/var/log/frugal-attempt.log"

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Environment names a shell can export; a launch with any other is refused before a script is written. */
export const invalidEnvironmentNames = (env: Readonly<Record<string, string>>): ReadonlyArray<string> =>
  Object.keys(env).filter((name) => !ENV_NAME.test(name))

/**
 * The user data script. Every value the job or the profile brings is single-quoted (`shellQuote`), environment names
 * are checked by the caller (`invalidEnvironmentNames`), and the operator's set-up lines are single lines by the
 * profile's schema: nothing in them can start a command the script does not itself run.
 */
/**
 * What the attempt tells the runner as it ends, as instance tags (no connection into the instance is opened): the
 * exit code, and from the command's protocol lines in the log the final step and weights hash of a completed run
 * and the step and size of the newest durable checkpoint. Every value is digits or hex, read by sed patterns that
 * admit nothing else, so the unquoted tag list splits only where it is meant to.
 */
const RESULT_TAG_LINES: ReadonlyArray<string> = [
  "result=\"$(grep -E '\"event\": ?\"(completed|interrupted)\"' \"$log\" | tail -n 1)\"",
  "checkpoint=\"$(grep -E '\"event\": ?\"checkpoint\"' \"$log\" | tail -n 1)\"",
  "sha=\"$(printf '%s' \"$result\" | sed -n 's/.*\"weightsSha256\": *\"\\([0-9a-f]\\{64\\}\\)\".*/\\1/p')\"",
  "final_step=\"$(printf '%s' \"$result\" | sed -n 's/.*\"step\": *\\([0-9]\\{1,\\}\\).*/\\1/p')\"",
  "tokens=\"$(printf '%s' \"$result\" | sed -n 's/.*\"tokensSeen\": *\\([0-9]\\{1,\\}\\).*/\\1/p')\"",
  "ckpt_step=\"$(printf '%s' \"$checkpoint\" | sed -n 's/.*\"step\": *\\([0-9]\\{1,\\}\\).*/\\1/p')\"",
  "ckpt_bytes=\"$(printf '%s' \"$checkpoint\" | sed -n 's/.*\"bytes\": *\\([0-9]\\{1,\\}\\).*/\\1/p')\"",
  "tags=\"Key=frugal:exit-code,Value=$status\"",
  "[ -n \"$sha\" ] && [ -n \"$final_step\" ] && tags=\"$tags Key=frugal:weights-sha256,Value=$sha Key=frugal:final-step,Value=$final_step Key=frugal:tokens-seen,Value=${tokens:-0}\"",
  "[ -n \"$ckpt_step\" ] && tags=\"$tags Key=frugal:checkpoint-step,Value=$ckpt_step Key=frugal:checkpoint-bytes,Value=${ckpt_bytes:-0}\"",
  "aws ec2 create-tags --region \"$region\" --resources \"$instance_id\" --tags $tags"
]

/**
 * What the command's first protocol line says, as instance tags the moment it is printed: the step it resumed from
 * (`none` when it found no checkpoint), its pid, device and precision. The runner turns them into the attempt's
 * `started` event while it runs, so a relaunch that finds the checkpoint store emptied is stopped at once instead of
 * training over from step 0. Values pass sed patterns that admit only digits and lower-case letters (and `:`).
 */
const STARTED_TAG_LINES: ReadonlyArray<string> = [
  "started_tags() {",
  "  started=\"$(grep -m 1 -E '\"event\": ?\"started\"' \"$log\")\"",
  "  [ -n \"$started\" ] || return 1",
  "  from=\"$(printf '%s' \"$started\" | sed -n 's/.*\"resumedFromStep\": *\\([0-9]\\{1,15\\}\\).*/\\1/p')\"",
  "  pid=\"$(printf '%s' \"$started\" | sed -n 's/.*\"pid\": *\\([0-9]\\{1,10\\}\\).*/\\1/p')\"",
  "  device=\"$(printf '%s' \"$started\" | sed -n 's/.*\"device\": *\"\\([a-z0-9:]\\{1,32\\}\\)\".*/\\1/p')\"",
  "  precision=\"$(printf '%s' \"$started\" | sed -n 's/.*\"precision\": *\"\\([a-z0-9]\\{1,16\\}\\)\".*/\\1/p')\"",
  "  aws ec2 create-tags --region \"$region\" --resources \"$instance_id\" --tags \"Key=frugal:resumed-from,Value=${from:-none}\" \"Key=frugal:pid,Value=${pid:-0}\" \"Key=frugal:device,Value=${device:-unknown}\" \"Key=frugal:precision,Value=${precision:-unknown}\"",
  "}",
  "( for _ in $(seq 1 3600); do started_tags && break; sleep 1; done ) &"
]

export const userDataScript = (input: UserDataInput): string => {
  const efs = /^efs:\/\/(fs-[0-9a-f]+)(\/.*)?$/.exec(input.checkpoints.uri)
  const checkpointDir = efs === null ? LOCAL_CHECKPOINT_DIR : `/mnt/frugal-efs${efs[2] ?? ""}/${input.jobId}`
  const multi = input.multiNode !== undefined && input.multiNode !== null && input.multiNode.nodes > 1 ? input.multiNode : null
  const s3 = efs === null ? `${input.checkpoints.uri.replace(/\/+$/, "")}/${input.jobId}` : null
  // Reads and writes name the store's region; what is written is encrypted with the store's KMS key when it has one.
  const s3Region = `--region ${shellQuote(input.checkpoints.region)}`
  const sse = input.checkpoints.kmsKeyId === null ? "" : ` --sse aws:kms --sse-kms-key-id ${shellQuote(input.checkpoints.kmsKeyId)}`
  const env = {
    FRUGAL_JOB_ID: input.jobId,
    FRUGAL_ATTEMPT_ID: input.attemptId,
    ...(input.checkpointEverySeconds === null ? {} : { FRUGAL_CHECKPOINT_EVERY_SECONDS: String(input.checkpointEverySeconds) }),
    ...input.env,
    FRUGAL_CHECKPOINT_DIR: checkpointDir,
    FRUGAL_IMDS_POLL: "1",
    PYTHONUNBUFFERED: "1"
  }
  return [
    "#!/bin/bash",
    "# Generated by frugal: one attempt of one job. Powers off (and so terminates) when the command ends.",
    "set -u",
    `log=${ATTEMPT_LOG}`,
    "exec >>\"$log\" 2>&1",
    // The SDKs' own setting for the metadata endpoint; unset on an instance, where it is the link-local address.
    "imds_endpoint=\"${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}\"",
    "token=\"$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \"$imds_endpoint/latest/api/token\")\"",
    "instance_id=\"$(curl -sf -H \"X-aws-ec2-metadata-token: $token\" \"$imds_endpoint/latest/meta-data/instance-id\")\"",
    "region=\"$(curl -sf -H \"X-aws-ec2-metadata-token: $token\" \"$imds_endpoint/latest/meta-data/placement/region\")\"",
    // The operator's set-up lines run in this shell (their exports hold), each through `eval` of a quoted word, so
    // none can break the script's own syntax, whatever quotes it holds.
    ...input.setupCommands.map((line) => `eval ${shellQuote(line)}`),
    ...(multi === null ? [] : rendezvousLines(input.attemptId, multi)),
    ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    `mkdir -p ${shellQuote(checkpointDir)}`,
    ...(efs === null
      ? [`aws s3 sync --only-show-errors ${s3Region} ${shellQuote(s3 ?? "")} ${shellQuote(checkpointDir)} || true`]
      : [
        "mkdir -p /mnt/frugal-efs",
        `mount -t efs -o tls ${shellQuote(`${efs[1]}:/`)} /mnt/frugal-efs`,
        `mkdir -p ${shellQuote(checkpointDir)}`
      ]),
    ...(s3 === null
      ? []
      : [`( while sleep 60; do aws s3 sync --only-show-errors ${s3Region}${sse} ${shellQuote(checkpointDir)} ${shellQuote(s3)}; done ) &`, "syncer=$!"]),
    `${multi === null ? singleNodeLine(input) : torchrunLine(input.argv, input.attemptId, multi, input.torchrunProgram)} &`,
    "child=$!",
    ...STARTED_TAG_LINES,
    "trap 'trapped=1; kill -TERM \"$child\" 2>/dev/null' TERM",
    "while :; do trapped=0; wait \"$child\"; status=$?; [ \"$trapped\" = 1 ] || break; done",
    ...(s3 === null
      ? []
      : ["kill \"$syncer\" 2>/dev/null", `aws s3 sync --only-show-errors ${s3Region}${sse} ${shellQuote(checkpointDir)} ${shellQuote(s3)}`]),
    ...RESULT_TAG_LINES,
    "shutdown -h now",
    ""
  ].join("\n")
}

/** One instance: the argv, or torchrun around it when the instance runs several processes. */
const singleNodeLine = (input: UserDataInput): string => {
  const processes = input.processesPerNode ?? 1
  const [first, ...rest] = input.argv
  const argv = processes <= 1 || first === undefined
    ? input.argv
    : torchrunArgv({
      argv: [first, ...rest],
      processesPerNode: processes,
      rendezvous: standalone,
      ...(input.torchrunProgram === undefined ? {} : { program: input.torchrunProgram })
    })
  return argv.map(shellQuote).join(" ")
}
