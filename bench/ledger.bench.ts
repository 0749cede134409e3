/**
 * What the ledger's integrity check and job leases cost: opening a ledger (PRAGMA quick_check, then WAL and the
 * migrations) holding 10,000 and 500,000 events, the check alone, and a lease taken, renewed and released, which
 * every supervision adds. Median of 5 runs after a warm-up; `pnpm bench ledger`.
 */
import { runLedgerBench } from "../packages/runner/test/support/LedgerBench.ts"

await runLedgerBench()
