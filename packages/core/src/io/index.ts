/**
 * `@frugal/core/io`: the file-system helpers every package shares, kept out of `@frugal/core` so that the
 * core stays pure (no I/O) for every module that imports it: the bounded input reader and the atomic write.
 */
export * from "./AtomicWrite.ts"
export * from "./InputFile.ts"
