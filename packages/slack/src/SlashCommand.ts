/**
 * What `/frugal <text>` asks for: `plan <example name or inline spec>`, `gpus <GPU>`, `waste [period]`,
 * `submit [--priority N] [--team T] <example name or inline spec>`, `queue`; anything else is help. Pure: text in,
 * request out.
 */
export type SlashRequest =
  | { readonly kind: "plan"; readonly spec: string }
  | { readonly kind: "submit"; readonly spec: string; readonly priority: number | undefined; readonly team: string | undefined }
  | { readonly kind: "queue" }
  | { readonly kind: "gpus"; readonly gpu: string }
  | { readonly kind: "waste"; readonly since: string }
  | { readonly kind: "help"; readonly problem: string | null }

export const parseSlashCommand = (text: string): SlashRequest => {
  const trimmed = text.trim()
  const [verb = "", ...rest] = trimmed.split(/\s+/)
  const argument = trimmed.slice(verb.length).trim()
  switch (verb.toLowerCase()) {
    case "plan":
      return argument === "" ? { kind: "help", problem: "`/frugal plan` needs an example name or an inline spec" } : { kind: "plan", spec: argument }
    case "gpus":
      return rest.length === 0 ? { kind: "help", problem: "`/frugal gpus` needs a GPU name such as A10G or H100" } : { kind: "gpus", gpu: argument }
    case "waste":
      return { kind: "waste", since: argument === "" ? "7d" : argument }
    case "submit":
      return parseSubmit(argument)
    case "queue":
      return { kind: "queue" }
    case "":
    case "help":
      return { kind: "help", problem: null }
    default:
      return { kind: "help", problem: `unknown command \`${verb}\`` }
  }
}

/** `[--priority N] [--team T] <spec>`: options first, the rest is the example name or inline spec. */
const parseSubmit = (argument: string): SlashRequest => {
  let rest = argument
  let priority: number | undefined
  let team: string | undefined
  for (;;) {
    const option = /^--(priority|team)\s+(\S+)\s*/.exec(rest)
    if (option === null) break
    const [whole, name, value = ""] = option
    if (name === "priority") {
      const parsed = Number(value)
      if (!Number.isInteger(parsed) || parsed < -1000 || parsed > 1000) {
        return { kind: "help", problem: `\`--priority\` takes a whole number from -1000 to 1000, not \`${value}\`` }
      }
      priority = parsed
    } else team = value
    rest = rest.slice(whole.length)
  }
  return rest.trim() === ""
    ? { kind: "help", problem: "`/frugal submit` needs an example name or an inline spec" }
    : { kind: "submit", spec: rest.trim(), priority, team }
}
