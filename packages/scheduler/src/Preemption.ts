/**
 * Which running jobs urgent work preempts (pure). The rule (docs/scheduler.md):
 *
 * - Only jobs running on spot are preempted: they are interruptible by design, checkpoint on SIGTERM and resume
 *   exactly, so a preemption costs them the restart and the steps since their last checkpoint, nothing more.
 * - Only for a job whose own priority (not aged: aging must not start preemption churn) is at least `minPriorityGap`
 *   above the victim's, and only for GPUs: a budget or quota wait preempts nothing.
 * - Only as many as free the GPUs the job is short of: same-team jobs first when the team's limit binds (they free
 *   the team's GPUs and the global ones), then any team's for the global limit; lowest priority first, then the
 *   most recently started (the least work since its start at stake), then by id.
 * - All or nothing: if the candidates cannot free enough, none is preempted and the job waits.
 *
 * A preempted job checkpoints, stops, and goes back to the queue with reason `priority`, keeping its submission time
 * (so its age, and with it its place), and resumes from its checkpoint when admitted again.
 */

export interface PreemptionCandidate {
  readonly id: string
  readonly team: string
  readonly priority: number
  readonly gpus: number
  readonly startedAtMillis: number
  /** Runs on spot capacity (interruptible): the only kind that is preempted. */
  readonly preemptible: boolean
  /** Already being preempted: stopping, its GPUs not yet free. */
  readonly preempting: boolean
}

export interface PreemptionNeed {
  /** GPUs of the job's team to free (≤ 0: the team's limit does not bind). */
  readonly team: number
  /** GPUs to free over all teams (≤ 0: the global limit does not bind). */
  readonly global: number
}

const byVictimOrder = (a: PreemptionCandidate, b: PreemptionCandidate): number =>
  a.priority - b.priority || b.startedAtMillis - a.startedAtMillis || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export const choosePreemptions = (
  job: { readonly team: string; readonly priority: number },
  running: ReadonlyArray<PreemptionCandidate>,
  need: PreemptionNeed,
  minPriorityGap: number
): ReadonlyArray<PreemptionCandidate> => {
  const eligible = running
    .filter((r) => r.preemptible && !r.preempting && r.gpus > 0 && r.priority + minPriorityGap <= job.priority)
    .sort(byVictimOrder)
  const victims: Array<PreemptionCandidate> = []
  let team = need.team
  let global = need.global
  for (const candidate of eligible) {
    if (team <= 0) break
    if (candidate.team !== job.team) continue
    victims.push(candidate)
    team -= candidate.gpus
    global -= candidate.gpus
  }
  if (team > 0) return []
  for (const candidate of eligible) {
    if (global <= 0) break
    if (victims.includes(candidate)) continue
    victims.push(candidate)
    global -= candidate.gpus
  }
  return global > 0 ? [] : victims
}
