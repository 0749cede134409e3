/**
 * Canonical accelerator names, and how names written by users and by the AWS catalog map onto them.
 * Input is case-insensitive; output is always the canonical spelling.
 */

/** Every accelerator AWS sells in the GPU catalog, by its canonical name. */
export const ACCELERATOR_NAMES = [
  "T4",
  "T4G",
  "V100",
  "V100-32GB",
  "A10G",
  "L4",
  "L40S",
  "RTXPRO6000",
  "A100-40GB",
  "A100-80GB",
  "H100",
  "H200",
  "B200",
  "B300",
  "Radeon-V520",
  "Gaudi",
  "Trainium",
  "Trainium2",
  "Inferentia",
  "Inferentia2"
] as const

export type AcceleratorName = typeof ACCELERATOR_NAMES[number]

/**
 * Other spellings: the AWS catalog's `AcceleratorName` column (`A100`, `T4g`, `Radeon Pro V520`, `Gaudi HL-205`)
 * and common family names. A family name (`A100`) stands for every variant when a user writes it, while the catalog
 * resolves it to the one variant that instance carries (see `Accelerator.catalogAcceleratorName`).
 */
const ALIASES: ReadonlyArray<readonly [string, ReadonlyArray<AcceleratorName>]> = [
  ["a100", ["A100-40GB", "A100-80GB"]],
  ["a100-40g", ["A100-40GB"]],
  ["a100-80g", ["A100-80GB"]],
  ["v100-16gb", ["V100"]],
  ["v100-32g", ["V100-32GB"]],
  ["h100-80gb", ["H100"]],
  ["h200-141gb", ["H200"]],
  ["rtx-pro-6000", ["RTXPRO6000"]],
  ["rtx pro 6000", ["RTXPRO6000"]],
  ["radeon pro v520", ["Radeon-V520"]],
  ["v520", ["Radeon-V520"]],
  ["gaudi hl-205", ["Gaudi"]],
  ["hl-205", ["Gaudi"]],
  ["trainium1", ["Trainium"]],
  ["inferentia1", ["Inferentia"]]
]

const byLowerCase: ReadonlyMap<string, ReadonlyArray<AcceleratorName>> = new Map([
  ...ACCELERATOR_NAMES.map((name): readonly [string, ReadonlyArray<AcceleratorName>] => [name.toLowerCase(), [name]]),
  ...ALIASES
])

/**
 * The canonical accelerators a user's name stands for: one for a canonical name in any case, several for a family
 * name such as `A100`; empty when the name is unknown.
 */
export const resolveAcceleratorNames = (input: string): ReadonlyArray<AcceleratorName> =>
  byLowerCase.get(input.trim().toLowerCase()) ?? []

/** The canonical name for exactly one accelerator, or undefined (unknown or ambiguous). */
export const canonicalAcceleratorName = (input: string): AcceleratorName | undefined => {
  const names = resolveAcceleratorNames(input)
  return names.length === 1 ? names[0] : undefined
}
