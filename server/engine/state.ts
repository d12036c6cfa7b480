/**
 * IM's state rules (IM/VirtualMachine.py update_status and InfrastructureManager.GetInfrastructureState),
 * reproduced exactly, including their order dependence.
 */
import type { VmState } from '../../connectors/types';
import type { InfrastructurePhase, VmRecord } from '../store/types';
import type { StateView } from './service';

/** A VM's visible state: a running VM shows its configuration outcome, as IM does. */
export function vmVisibleState(vm: Pick<VmRecord, 'state' | 'configured' | 'removing'>): VmState {
  if (vm.removing) return 'deleting';
  if (vm.state === 'running') {
    if (vm.configured === true) return 'configured';
    if (vm.configured === false) return 'unconfigured';
  }
  return vm.state;
}

/** IM's InfrastructureInfo.configured: true / false / null (not finished). */
export function phaseConfigured(phase: InfrastructurePhase): boolean | null {
  if (phase === 'configured') return true;
  if (phase === 'unconfigured' || phase === 'failed') return false;
  return null;
}

/** The infrastructure state from its VMs' visible states (in VM id order) and its own phase. */
export function aggregateState(vmStates: VmState[], phase: InfrastructurePhase): VmState {
  let state: VmState | null = null;
  for (const s of vmStates) {
    if (s === 'failed') { state = 'failed'; break; }
    if (s === 'unknown') { state = 'unknown'; break; }
    if (s === 'pending') state = 'pending';
    else if (s === 'running') { if (state !== 'pending') state = 'running'; }
    else if (s === 'stopped' || s === 'off' || s === 'configured') { if (state === null) state = s; }
    else if (s === 'unconfigured') { if (state === null || state === 'configured') state = 'unconfigured'; }
  }
  if (state === null) {
    const configured = phaseConfigured(phase);
    if (configured === false) state = 'failed';
    else if (vmStates.length === 0 && configured === null) state = 'pending';
    else state = 'unknown';
  }
  if (phase === 'deleting') state = 'deleting';
  return state;
}

export function stateView(vms: Array<Pick<VmRecord, 'id' | 'state' | 'configured' | 'removing'>>, phase: InfrastructurePhase): StateView {
  const vm_states: Record<string, VmState> = {};
  const states: VmState[] = [];
  for (const vm of vms) {
    const s = vmVisibleState(vm);
    vm_states[vm.id] = s;
    states.push(s);
  }
  return { state: aggregateState(states, phase), vm_states };
}
