/** The online policies by name, as `frugal simulate --policy` and the Supervisor look them up. */
import { frugalPolicy } from "./Frugal.ts"
import { greedyPolicy } from "./Greedy.ts"
import { onDemandPolicy } from "./OnDemand.ts"
import type { Policy } from "./Policy.ts"
import { uniformProgressPolicy } from "./UniformProgress.ts"

export const onlinePolicies: ReadonlyArray<Policy> = [onDemandPolicy, greedyPolicy, uniformProgressPolicy, frugalPolicy]

export const onlinePolicyByName = (name: string): Policy | undefined => onlinePolicies.find((p) => p.name === name)
