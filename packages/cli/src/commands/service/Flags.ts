/** The argument and flags the service subcommands share. */
import * as Argument from "effect/cli/Argument"
import * as Flag from "effect/cli/Flag"

export const file = Argument.String("file").pipe(
  Argument.withDescription("Workload spec of kind inference with a service: section (YAML or JSON); - reads standard input"),
  Argument.withMetavar("FILE")
)
export const json = Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
export const infra = Flag.String("infra").pipe(
  Flag.withDescription("Infrastructure profile (default FRUGAL_INFRA, else $XDG_CONFIG_HOME/frugal/infra.yaml)"),
  Flag.withMetavar("FILE"),
  Flag.optional
)
export const engine = Flag.Literals("engine", ["ec2-asg", "kubernetes"]).pipe(
  Flag.withDescription("ec2-asg: an EC2 Auto Scaling group; kubernetes: Deployments, KEDA ScaledObject, Karpenter NodePools")
)
