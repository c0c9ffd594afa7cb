import assert from 'node:assert/strict'

import {escalate, type EscalationState, type TrimCycleOutcome, trimOutcome} from '../../src/lib/trim/escalation.js'

describe('trim escalation', () => {
  /** Runs a sequence of cycle outcomes from a fresh state; returns each step's action and the count after it. */
  function run(outcomes: TrimCycleOutcome[], threshold = 3, from: EscalationState = {failures: 0, alerted: false}) {
    let state = from
    return outcomes.map((o) => {
      const step = escalate(state, o, threshold)
      state = step.state
      return `${step.action}:${state.failures}`
    })
  }

  it('raises one alert when failures in a row reach the threshold, none after it in the same episode', () => {
    assert.deepEqual(run(['failed', 'failed', 'failed', 'failed', 'failed']), ['none:1', 'none:2', 'alert:3', 'none:4', 'none:5'])
  })

  it('a sell that goes out, or exposure back under the cap, ends the episode, resolving the alert if there was one', () => {
    assert.deepEqual(run(['failed', 'failed', 'failed', 'partial', 'failed']), ['none:1', 'none:2', 'alert:3', 'resolve:0', 'none:1'])
    assert.deepEqual(run(['failed', 'not_needed', 'failed', 'failed', 'failed']), ['none:1', 'none:0', 'none:1', 'none:2', 'alert:3'])
    assert.deepEqual(run(['failed', 'succeeded']), ['none:1', 'none:0'], 'nothing to resolve before the alert')
  })

  it('continues from a stored state (a restart) without alerting again', () => {
    assert.deepEqual(run(['failed', 'failed'], 3, {failures: 4, alerted: true}), ['none:5', 'none:6'])
    assert.deepEqual(run(['failed'], 3, {failures: 2, alerted: false}), ['alert:3'])
  })

  it('names the outcome of a cycle from what happened to its sells', () => {
    assert.equal(trimOutcome(false, 0, 0, 0), 'not_needed')
    assert.equal(trimOutcome(true, 0, 0, 5000), 'failed', 'no candidates')
    assert.equal(trimOutcome(true, 3, 0, 0), 'failed', 'every sell denied or rejected')
    assert.equal(trimOutcome(true, 3, 2, 0), 'partial')
    assert.equal(trimOutcome(true, 3, 3, 1200), 'partial', 'all out, but the order budget left a shortfall')
    assert.equal(trimOutcome(true, 3, 3, 0), 'succeeded')
  })
})
