/**
 * When trimming keeps failing, a person must hear of it: the predecessor's feature 6. A cycle that needs a
 * trim but gets no sell out (no candidate, every sell denied or rejected) is a failure; failures in a row are
 * counted across restarts, and the count reaching `max_trim_failures_before_alert` raises one CRITICAL alert
 * for the episode. A trim that gets a sell out, or exposure back under the cap, ends the episode. Pure.
 */

export interface EscalationState {
  /** Consecutive cycles that needed a trim and got no sell out. */
  failures: number
  /** The CRITICAL alert of this episode went out. */
  alerted: boolean
}

/** What a cycle did about exposure over the cap. */
export type TrimCycleOutcome =
  | 'not_needed' // exposure at or under the cap (or auto-trim off)
  | 'succeeded' //  every planned sell went out and they cover the excess
  | 'partial' //    some sells went out; more is left for the next cycle
  | 'failed' //     needed, nothing went out

export interface EscalationStep {
  state: EscalationState
  /** Raise the episode's CRITICAL alert now, or resolve it. */
  action: 'none' | 'alert' | 'resolve'
}

export function escalate(state: EscalationState, outcome: TrimCycleOutcome, threshold: number): EscalationStep {
  if (outcome !== 'failed') {
    return {state: {failures: 0, alerted: false}, action: state.alerted ? 'resolve' : 'none'}
  }

  const failures = state.failures + 1
  if (failures >= threshold && !state.alerted) return {state: {failures, alerted: true}, action: 'alert'}
  return {state: {failures, alerted: state.alerted}, action: 'none'}
}

/** The outcome of a cycle's trim from what happened to its sells. */
export function trimOutcome(needed: boolean, planned: number, accepted: number, shortfall: number): TrimCycleOutcome {
  if (!needed) return 'not_needed'
  if (accepted === 0) return 'failed'
  return accepted === planned && shortfall <= 0 ? 'succeeded' : 'partial'
}
