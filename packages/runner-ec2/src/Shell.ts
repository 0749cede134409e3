/** Single-quotes a value for bash, so metacharacters in it stay plain text. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`
