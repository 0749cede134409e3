/**
 * The EC2 engine as the supervisor sees it: its runtime (Ec2Runner) and, for `--dry-run`, the RunInstances request
 * an attempt would send, with its user data decoded below it.
 */
import { Effect } from "effect"
import type { AttemptRequest, Engine } from "@frugal/runner"
import * as Ec2Runner from "./Ec2Runner.ts"
import type { Ec2Settings } from "./Ec2Settings.ts"

/** The RunInstances input as data and as text; the error when the placement's region or zone is not configured. */
export const describeRunInstances = (settings: Ec2Settings, request: AttemptRequest) => {
  const region = Ec2Runner.regionSettings(settings, request)
  if (typeof region === "string") return { request: { error: region }, text: `# cannot launch: ${region}` }
  const input = Ec2Runner.runInstancesInput(settings, region, request)
  const userData = Buffer.from(input.UserData ?? "", "base64").toString("utf8")
  const shown = { region: request.placement.region, RunInstances: { ...input, UserData: "(below, base64-encoded on the wire)" } }
  return { request: { ...shown, userData }, text: `${JSON.stringify(shown, null, 2)}\n\n# user data\n${userData}` }
}

export const ec2Engine = (settings: Ec2Settings): Engine => ({
  name: "ec2",
  describeLaunch: (request) => ({ engine: "ec2", ...describeRunInstances(settings, request) }),
  runner: Effect.map(Ec2Runner.runtime(settings), (runner) => runner)
})
