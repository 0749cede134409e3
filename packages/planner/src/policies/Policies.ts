/** The online policies by name, as `frugal simulate --policy` and the Supervisor look them up. */
import { frugalPolicy } from "./Frugal.ts"
import { greedyPolicy } from "./Greedy.ts"
import { onDemandPolicy } from "./OnDemand.ts"
import type { Policy } from "./Policy.ts"
import { uniformProgressPolicy } from "./UniformProgress.ts"

export const onlinePolicies: ReadonlyArray<Policy> = [onDemandPolicy, greedyPolicy, uniformProgressPolicy, frugalPolicy]

/** Their names: the one list that `frugal run --policy`, `frugal simulate` and a job's saved policy accept. */
export const ONLINE_POLICY_NAMES = ["on-demand", "greedy", "uniform-progress", "frugal"] as const
export type OnlinePolicyName = (typeof ONLINE_POLICY_NAMES)[number]

export const onlinePolicyByName = (name: string): Policy | undefined => onlinePolicies.find((p) => p.name === name)
