import type { VmState } from '../../connectors/types';
import { aggregateState, stateView, vmVisibleState } from './state';

describe("IM's infrastructure state aggregation", () => {
  const table: Array<[VmState[], string, VmState]> = [
    [['configured', 'configured'], 'configured', 'configured'],
    [['configured', 'failed', 'pending'], 'configuring', 'failed'],
    [['pending', 'unknown'], 'deploying', 'unknown'],
    [['running', 'pending'], 'deploying', 'pending'],
    [['pending', 'running'], 'deploying', 'pending'],
    [['running', 'configured'], 'configuring', 'running'],
    [['configured', 'running'], 'configuring', 'running'],
    [['configured', 'unconfigured'], 'unconfigured', 'unconfigured'],
    [['unconfigured', 'configured'], 'unconfigured', 'unconfigured'],
    [['stopped', 'stopped'], 'configured', 'stopped'],
    // IM's loop is order dependent: the first of stopped/off/configured wins.
    [['stopped', 'configured'], 'configured', 'stopped'],
    [['configured', 'stopped'], 'configured', 'configured'],
    [['off'], 'configured', 'off'],
    [['stopped', 'running'], 'configured', 'running'],
    [['unconfigured', 'stopped'], 'unconfigured', 'unconfigured'],
    [[], 'deploying', 'pending'],
    [[], 'configured', 'unknown'],
    [[], 'failed', 'failed'],
    [['deleting'], 'configured', 'unknown'],
    [['configured'], 'deleting', 'deleting'],
    [['failed'], 'deleting', 'deleting'],
  ];
  test.each(table)('%j with phase %s → %s', (vms, phase, expected) => {
    expect(aggregateState(vms, phase as never)).toBe(expected);
  });
});

describe('VM visible state', () => {
  test('a running VM shows its configuration outcome; removal shows deleting', () => {
    const vm = (state: VmState, configured: boolean | null, removing = false) => vmVisibleState({ state, configured, removing });
    expect(vm('running', null)).toBe('running');
    expect(vm('running', true)).toBe('configured');
    expect(vm('running', false)).toBe('unconfigured');
    expect(vm('stopped', true)).toBe('stopped');
    expect(vm('failed', true)).toBe('failed');
    expect(vm('running', true, true)).toBe('deleting');
  });

  test('stateView maps VM ids to visible states', () => {
    expect(stateView([
      { id: '0', state: 'running', configured: true, removing: false },
      { id: '2', state: 'pending', configured: null, removing: false },
    ], 'deploying')).toEqual({ state: 'pending', vm_states: { 0: 'configured', 2: 'pending' } });
  });
});
