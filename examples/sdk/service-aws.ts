/**
 * A service on an EC2 Auto Scaling group (`frugal service apply|status --engine ec2-asg`): creates the group, its
 * scaling policies and alarms from the profile's subnets and launch template, reads what runs, then deletes it all.
 * Needs AWS credentials (the AWS SDK's usual chain) and a profile with your own IDs.
 */
import { readFileSync } from "node:fs"
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()
const service = readFileSync("examples/service-chat.yaml", "utf8")
const target = { engine: "ec2-asg", infra: "examples/service/infra.yaml" } as const

const applied = await frugal.service.apply(service, target)
if (applied.action === "apply") console.log(`apply: ${applied.outcome.groupName} ${applied.outcome.group} in ${applied.outcome.region}`)

const status = await frugal.service.status(service, target)
console.log(`status: ${status.desired} desired, ${status.byMarket.onDemand.instances} on demand, ${status.byMarket.spot.instances} spot`)

const deleted = await frugal.service.apply(service, { ...target, delete: true })
if (deleted.action === "delete" && !deleted.dryRun) console.log(`delete: group deleted: ${deleted.outcome.groupDeleted}`)
