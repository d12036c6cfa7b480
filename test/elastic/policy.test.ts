/** Declaration and knobs: E-DECL-1, E-DECL-3, E-DECL-4, aliases, live changes (E-OBS-4 knobs part). */
import type { ElasticPolicyPlan } from '../../tosca/plan';
import { InvalidInputError, imStatus } from '../../server/errors';
import { DEFAULTS, KNOBS, applyKnobChanges, policyFromPlan, policyView } from '../../server/elastic/policy';

const scaling = (options: ElasticPolicyPlan['options'] = {}, min = 0, max = 5): ElasticPolicyPlan =>
  ({ source: 'scaling-policy', target: 'wn', frontEnd: 'front', minInstances: min, maxInstances: max, options });
const cluster = (options: ElasticPolicyPlan['options'] = {}, min = 0, max = 5): ElasticPolicyPlan =>
  ({ source: 'elastic-cluster', target: 'wn', frontEnd: 'front', minInstances: min, maxInstances: max, options });
const condor = { frontEndType: 'tosca.nodes.indigo.LRMS.FrontEnd.HTCondor' };

describe('E-DECL-1 both declarations give the same policy', () => {
  test('Scaling policy properties and EC3 config_options', () => {
    const a = policyFromPlan(scaling({ idle_before_scale_down_s: 300, spare_nodes: 1, max_booting_nodes: 3, scale_up_pending_for_s: 60 }), condor);
    const b = policyFromPlan(cluster({
      secret_token: 'not_very_secret_token', powermanager_plugin: 'im', // ElasticCluster properties that are not knobs
      config_options: [
        { section: 'scheduling', option: 'IDLE_TIME', value: '300' },
        { section: 'scheduling', option: 'EXTRA_NODES_FREE', value: '1' },
        { section: 'scheduling', option: 'MAX_BOOTING_NODES', value: '3' },
        { section: 'scheduling', option: 'RECONSIDER_JOB_TIME', value: '60' },
        { section: 'scheduling', option: 'SCHEDULER_CLASSES', value: 'clueslib.schedulers.CLUES_Scheduler_PowOn_Requests' },
      ],
    }), condor);
    const { source: _a, ...pa } = a;
    const { source: _b, ...pb } = b;
    expect(pa).toEqual(pb);
    expect(a).toMatchObject({ lrms: 'htcondor', min_nodes: 0, max_nodes: 5, idle_before_scale_down_s: 300, spare_nodes: 1 });
  });
  test('the grycap kubernetes_elastic.yaml config_options are all accepted', () => {
    const p = policyFromPlan(cluster({ config_options: [
      { section: 'scheduling', option: 'IDLE_TIME', value: '300' },
      { section: 'scheduling', option: 'RECONSIDER_JOB_TIME', value: '60' },
      { section: 'monitoring', option: 'MAX_WAIT_POWERON', value: '3000' },
      { section: 'monitoring', option: 'MAX_WAIT_POWEROFF', value: '600' },
      { section: 'monitoring', option: 'PERIOD_LIFECYCLE', value: '20' },
      { section: 'monitoring', option: 'PERIOD_MONITORING_NODES', value: '20' },
      { section: 'client', option: 'CLUES_REQUEST_WAIT_TIMEOUT', value: '3000' },
      { section: 'scheduling', option: 'EXTRA_NODES_FREE', value: 1 },
    ] }, 1, 3), { frontEndType: 'tosca.nodes.indigo.LRMS.FrontEnd.Kubernetes' });
    expect(p).toMatchObject({ lrms: 'kubernetes', join_timeout_s: 3000, drain_timeout_s: 600, check_every_s: 20, spare_nodes: 1, min_nodes: 1, max_nodes: 3 });
  });
  test("elastiq's names are aliases", () => {
    const p = policyFromPlan(scaling({
      n_jobs_per_vm: 8, waiting_jobs_time_s: 100, idle_for_time_s: 3600, estimated_vm_deploy_time_s: 300,
      check_queue_every_s: 30, min_vms: 1, max_vms: 9, dry_run_boot_vms: '1',
    }));
    expect(p).toMatchObject({ slots_per_node: 8, scale_up_pending_for_s: 100, idle_before_scale_down_s: 3600,
      deploy_time_estimate_s: 300, check_every_s: 30, min_nodes: 1, max_nodes: 9, dry_run: true });
  });
});

describe('E-DECL-4 defaults', () => {
  test('defaults apply, slots per node follows the worker flavour', () => {
    const p = policyFromPlan(scaling({ probe_command: 'cat /q' }, 0, 4), { workerCpus: 2 });
    expect(p).toEqual({ ...DEFAULTS, slots_per_node: 2, target: 'wn', frontEnd: 'front', source: 'scaling-policy',
      max_nodes: 4, lrms: 'generic', probe_command: 'cat /q' });
    expect(policyFromPlan(scaling()).slots_per_node).toBe(4); // elastiq's n_jobs_per_vm
  });
  test('a worker count of 0 (min 0) is valid; every knob is in the view', () => {
    const v = policyView(policyFromPlan(scaling({}, 0, 1)));
    for (const k of Object.keys(KNOBS)) expect(v).toHaveProperty(k);
  });
});

describe('E-DECL-3 validation names the knob', () => {
  test.each<[string, ElasticPolicyPlan, RegExp]>([
    ['min > max', scaling({}, 4, 2), /"min_nodes" must be <= max_nodes/],
    ['max 0', scaling({}, 0, 0), /"max_nodes" must be an integer >= 1/],
    ['negative idle', scaling({ idle_before_scale_down_s: -5 }), /"idle_before_scale_down_s" must be/],
    ['zero join timeout', scaling({ join_timeout_s: 0 }), /"join_timeout_s"/],
    ['text as number via alias', cluster({ config_options: [{ section: 's', option: 'IDLE_TIME', value: 'soon' }] }), /"idle_before_scale_down_s" \(given as IDLE_TIME\)/],
    ['fractional slots', scaling({ slots_per_node: 2.5 }), /"slots_per_node" must be an integer/],
    ['unknown CLUES option', cluster({ config_options: [{ section: 's', option: 'IDEL_TIME', value: '1' }] }), /unknown knob "IDEL_TIME"/],
    ['unknown Scaling property', scaling({ idle_seconds: 5 }), /unknown knob "idle_seconds"/],
    ['conflicting aliases', scaling({ idle_for_time_s: 10, idle_before_scale_down_s: 20 }), /"idle_before_scale_down_s" given twice/],
    ['bad lrms', scaling({ lrms: 'pbs' }), /"lrms" must be one of/],
    ['bad bool', scaling({ dry_run: 'maybe' }), /"dry_run" must be a boolean/],
    ['spare > max', scaling({ spare_nodes: 9 }, 0, 3), /"spare_nodes" must be <= max_nodes/],
    ['malformed config_options', cluster({ config_options: [{ value: 1 }] }), /config_options\[0\]/],
  ])('%s', (_name, plan, msg) => {
    let err: unknown;
    try { policyFromPlan(plan); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(imStatus(err as InvalidInputError)).toBe(400);
    expect((err as Error).message).toMatch(msg);
  });
});

describe('E-OBS-4 live knob changes', () => {
  const base = policyFromPlan(scaling({}, 0, 5), condor);
  test('aliases accepted, changes returned, policy revalidated', () => {
    const { policy, changed } = applyKnobChanges(base, { max_vms: 10, paused: true, IDLE_TIME: '120' });
    expect(changed).toEqual({ max_nodes: 10, paused: true, idle_before_scale_down_s: 120 });
    expect(policy).toMatchObject({ max_nodes: 10, paused: true, idle_before_scale_down_s: 120, lrms: 'htcondor' });
  });
  test.each<[unknown, RegExp]>([
    [{ min_nodes: 9 }, /"min_nodes" must be <= max_nodes \(5\)/],
    [{ max_nodes: 'many' }, /"max_nodes"/],
    [{ nodes_max: 3 }, /unknown knob "nodes_max"/],
    [[1], /must be a JSON object/],
    [null, /must be a JSON object/],
  ])('invalid body %j → 400', (body, msg) => {
    expect(() => applyKnobChanges(base, body)).toThrow(msg);
    expect(() => applyKnobChanges(base, body)).toThrow(InvalidInputError);
  });
});

describe('billing knobs (E-DOWN-5)', () => {
  test('EC3 names, and a margin is required when billing is on', () => {
    expect(policyFromPlan(cluster({ ec3_destroy_interval: 3600, ec3_destroy_safe: 600 }))).toMatchObject({ billing_interval_s: 3600, billing_safe_margin_s: 600 });
    expect(() => policyFromPlan(scaling({ billing_interval_s: 3600 }))).toThrow(/"billing_safe_margin_s" must be > 0 and < billing_interval_s/);
  });
});
