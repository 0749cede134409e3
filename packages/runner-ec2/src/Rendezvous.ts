/**
 * How the instances of a multi-node EC2 attempt find each other. All N instances come from ONE RunInstances call
 * (MinCount = MaxCount = N: all or nothing, and one reservation), so they share one user data script; each works
 * out at boot which node it is and where node 0 is:
 *
 * - its node rank is its launch index in the reservation (IMDS `ami-launch-index`, 0 … N-1: "the order in which
 *   the instance was launched", EC2 User Guide, instance metadata categories);
 * - node 0 hosts the torchrun c10d rendezvous on its own private address (IMDS `local-ipv4`); every other node
 *   asks EC2 for the private address of the instance of its reservation (IMDS `reservation-id`, also filtered on
 *   the attempt tag) whose `AmiLaunchIndex` is 0, retrying while EC2's view catches up.
 *
 * So no address has to be known before launch and no tag is written after it (the launching role may tag only at
 * launch); the instance role needs `ec2:DescribeInstances`. The runner logs node 0's address from the
 * RunInstances response, which is the same address the nodes find.
 */
import { shellQuote } from "./Shell.ts"

export interface MultiNode {
  readonly nodes: number
  /** Processes torchrun starts on each node: the instance's GPUs (1 on a CPU instance). */
  readonly procsPerNode: number
  /** TCP port of the c10d rendezvous on node 0; open between the job's instances (security group). */
  readonly port: number
}

export const DEFAULT_RENDEZVOUS_PORT = 29400

/** Seconds a node waits for EC2 to show node 0's address before it gives up (60 tries, 5 s apart). */
const DISCOVERY_TRIES = 60

/**
 * Shell lines (after `token` and `region` are set) that set and export `FRUGAL_NODE_RANK`, `FRUGAL_NNODES` and
 * `FRUGAL_RENDEZVOUS` (`host:port`), or record exit code 1 and power off when node 0 cannot be found.
 */
export const rendezvousLines = (attemptId: string, multi: MultiNode): ReadonlyArray<string> => [
  "imds() { curl -sf -H \"X-aws-ec2-metadata-token: $token\" \"$imds_endpoint/latest/meta-data/$1\"; }",
  "node_rank=\"$(imds ami-launch-index)\"",
  "reservation=\"$(imds reservation-id)\"",
  "rdzv_host=''",
  "if [ \"$node_rank\" = 0 ]; then",
  "  rdzv_host=\"$(imds local-ipv4)\"",
  "else",
  `  for _ in $(seq 1 ${DISCOVERY_TRIES}); do`,
  "    rdzv_host=\"$(aws ec2 describe-instances --region \"$region\" --output text" +
  " --filters \"Name=reservation-id,Values=$reservation\" " +
  shellQuote(`Name=tag:frugal:attempt,Values=${attemptId}`) +
  " --query 'Reservations[].Instances[?AmiLaunchIndex==`0`].PrivateIpAddress')\"",
  "    case \"$rdzv_host\" in ''|None) rdzv_host=''; sleep 5 ;; *) break ;; esac",
  "  done",
  "fi",
  "if [ -z \"$rdzv_host\" ]; then",
  "  echo \"frugal: node $node_rank found no address for node 0 of reservation $reservation\"",
  "  aws ec2 create-tags --region \"$region\" --resources \"$instance_id\" --tags 'Key=frugal:exit-code,Value=1'",
  "  shutdown -h now",
  "  exit 1",
  "fi",
  "export FRUGAL_NODE_RANK=\"$node_rank\"",
  `export FRUGAL_NNODES=${shellQuote(String(multi.nodes))}`,
  `export FRUGAL_RENDEZVOUS="$rdzv_host:${multi.port}"`
]

/**
 * The launch argv on every node: one torchrun per node meeting at node 0; `--no-python` runs the argv as given
 * (its own python), as the Slurm and Kubernetes engines do. The attempt id is the rendezvous id, so a relaunched
 * attempt never joins an old one. The flags are spelled with underscores: torchrun accepts those in every release,
 * while the dashed spellings (`--nproc-per-node`) exist only from PyTorch 2.0 (1.13 rejects them).
 */
export const torchrunLine = (
  argv: ReadonlyArray<string>,
  attemptId: string,
  multi: MultiNode,
  program?: ReadonlyArray<string>
): string =>
  [
    program === undefined ? "torchrun" : program.map(shellQuote).join(" "),
    `--nnodes ${multi.nodes}`,
    `--nproc_per_node ${Math.max(1, multi.procsPerNode)}`,
    "--rdzv_backend c10d",
    "--rdzv_endpoint \"$FRUGAL_RENDEZVOUS\"",
    `--rdzv_id ${shellQuote(attemptId)}`,
    "--no_python",
    ...argv.map(shellQuote)
  ].join(" ")
