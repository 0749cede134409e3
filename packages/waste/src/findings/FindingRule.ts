/**
 * A waste finding as one self-contained rule: what it is called, when it claims spend relative to the others, how
 * its dollars are computed in words, and the pure function that finds it. Adding a finding is one file exporting a
 * `FindingRule` and one line listing it in `FINDING_RULES` (`Rules.ts`); the report, its renderers, the Slack bot's
 * "Explain" answer and the precedence all follow from the rule.
 */
import type { FindingBody } from "../Finding.ts"
import type { FindingContext } from "./FindingContext.ts"

export interface FindingRule<Kind extends string = string> {
  /** The finding's `kind` in every output (`report --format json`), kebab-case. */
  readonly kind: Kind
  /**
   * When it claims spend: rules run from the lowest precedence up, and the spend pools (`SpendPools.ts`) give each
   * instance-hour or dollar to the first rule that claims it, so the sum of findings never exceeds the spend.
   * Paid-for-nothing first (unused commitments, idle GPUs), then right-sizing, lost work, and last the cheaper
   * ways to buy the hours that remain.
   */
  readonly precedence: number
  /** A short name for tables, charts and the order the Slack bot explains: "Idle GPUs". */
  readonly label: string
  /** How its dollars are computed, in one or two sentences (docs/waste.md has the long form). */
  readonly explanation: string
  /** Pure: the finding in this period's data, or undefined when there is none. */
  readonly find: (context: FindingContext) => FindingBody | undefined
}

/** Declares a rule, keeping its `kind` as a literal type (so `FindingKind` lists every rule's kind). */
export const findingRule = <const Kind extends string>(rule: FindingRule<Kind>): FindingRule<Kind> => rule
