/**
 * What `service apply` reads from the infrastructure profile (core's `InfraProfile`, ARCHITECTURE.md): per AWS region
 * the subnets by AZ ID and the launch template or image (an Auto Scaling group with mixed instances launches from a
 * template), security groups and instance profile; the first Kubernetes cluster's namespace and Karpenter node
 * class. One profile, one decoder: the same file `frugal run --infra` reads.
 */
import { decodeInfraProfile, type InfraProfile, type InvalidInput } from "@frugal/core"
import type { Effect } from "effect"

export type ServiceInfra = InfraProfile

/** The profile from its text; `source` names the file in errors. */
export const decodeServiceInfra: (text: string, source: string) => Effect.Effect<ServiceInfra, InvalidInput> = decodeInfraProfile
