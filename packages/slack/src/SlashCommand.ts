/**
 * What `/frugal <text>` asks for: `plan <example name or inline spec>`, `gpus <GPU>`, `waste [period]`,
 * anything else is help. Pure: text in, request out.
 */
export type SlashRequest =
  | { readonly kind: "plan"; readonly spec: string }
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
    case "":
    case "help":
      return { kind: "help", problem: null }
    default:
      return { kind: "help", problem: `unknown command \`${verb}\`` }
  }
}
