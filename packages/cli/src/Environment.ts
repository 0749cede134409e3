/**
 * The process environment, read here once, at the CLI's edge, and handed to the SDK: below the CLI, Frugal's own
 * settings (`FRUGAL_HOME`, `FRUGAL_INFRA`, `FRUGAL_PRICING_CONFIG`, the engines' `FRUGAL_*` overrides) come from
 * this record, never from `process.env` directly.
 */
import type { Environment } from "@frugal/sdk"

export const environment: Environment = { ...process.env }
