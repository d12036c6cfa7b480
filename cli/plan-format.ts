/** The human-readable rendering of a Plan for `tosca-im plan` (the --json form is the Plan itself). */
import type {
  AttributeRef, ComputePlan, DeferredFunction, OperationOutputRef, OperationPlan, Plan, PlanValue, SoftwarePlan,
} from '../tosca';

type Ref = AttributeRef | OperationOutputRef | DeferredFunction;
const isRef = (v: PlanValue): v is Ref => !!v && typeof v === 'object' && !Array.isArray(v) && typeof v.$ref === 'string';

/** A value as a reader would write it: references in their TOSCA function form, the rest as JSON. */
export function formatValue(v: PlanValue): string {
  if (isRef(v)) {
    switch (v.$ref) {
      case 'get_attribute':
        return `get_attribute(${[v.node, ...v.path, ...(v.index === undefined ? [] : [v.index])].join(', ')})`;
      case 'get_operation_output':
        return `get_operation_output(${v.node}, ${v.interface}, ${v.operation}, ${v.output})`;
      default:
        return `${v.$ref}(${v.args.map(formatValue).join(', ')})`;
    }
  }
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

function computeLines(c: ComputePlan): string[] {
  const size = [
    c.host.numCpus !== undefined && `${c.host.numCpus} cpu`,
    c.host.memSizeMB !== undefined && `${c.host.memSizeMB} MB`,
    c.host.diskSizeGB !== undefined && `${c.host.diskSizeGB} GB disk`,
    c.host.instanceType && `type ${c.host.instanceType}`,
    c.host.numGpus !== undefined && `${c.host.numGpus} gpu`,
  ].filter(Boolean).join(', ');
  const os = [c.os.image, c.os.distribution, c.os.version, c.os.type].filter(Boolean).join(' ');
  const bounds = c.minInstances !== undefined || c.maxInstances !== undefined ? ` [${c.minInstances ?? '?'}..${c.maxInstances ?? '?'}]` : '';
  const lines = [`  ${c.name} (${c.type}) x${c.count}${bounds}${size ? ` — ${size}` : ''}${os ? ` — ${os}` : ''}`];
  const ip = c.publicIp ? `public IP${c.publicNetwork ? ` from ${c.publicNetwork}` : ''}` : 'no public IP';
  lines.push(`    network: ${ip}${c.networks.length ? `; networks ${c.networks.join(', ')}` : ''}${c.dnsName ? `; dns ${c.dnsName}` : ''}`);
  if (c.ports.length) {
    const ports = c.ports.map((p) => `${p.from === p.to ? p.from : `${p.from}-${p.to}`}/${p.protocol}${p.source !== '0.0.0.0/0' ? ` from ${p.source}` : ''}`);
    lines.push(`    ports: ${ports.join(', ')}`);
  }
  if (c.removalList.length) lines.push(`    remove: ${c.removalList.join(', ')}`);
  if (c.cloudId) lines.push(`    cloud: ${c.cloudId}`);
  if (c.software.length) lines.push(`    software: ${c.software.join(', ')}`);
  return lines;
}

function operationText(op: OperationPlan): string {
  const impl = op.implementation;
  return impl ? `${op.name} (${impl.kind} ${impl.url ?? impl.path})` : op.name;
}

function softwareLines(s: SoftwarePlan): string[] {
  const lines = [`  ${s.name} (${s.type})${s.host ? ` on ${s.host}` : ''}`];
  if (s.operations.length) lines.push(`    steps: ${s.operations.map(operationText).join(' → ')}`);
  if (s.dependsOn.length) lines.push(`    after: ${s.dependsOn.join(', ')}`);
  return lines;
}

export function formatPlan(plan: Plan, source: string): string {
  const out = [`plan of ${source} (${plan.toscaVersion})`];
  if (plan.description) out.push(`  ${plan.description.trim().split('\n')[0]}`);
  const section = (title: string, lines: string[]) => { if (lines.length) out.push('', `${title}:`, ...lines); };
  section('inputs', Object.entries(plan.inputs).map(([k, v]) => `  ${k} = ${formatValue(v)}`));
  section('compute', plan.computes.flatMap(computeLines));
  section('software', plan.software.flatMap(softwareLines));
  section('volumes', plan.volumes.map((v) => `  ${v.name}${v.sizeGB !== undefined ? ` ${v.sizeGB} GB` : ''}${v.volumeId ? ` volume ${v.volumeId}` : ''}${v.attachedTo ? ` → ${v.attachedTo}${v.location ? `:${v.location}` : ''}` : ''}`));
  section('networks', plan.networks.map((n) => `  ${n.name}${n.networkName ? ` (${n.networkName})` : ''}${n.public ? ' public' : ''}${n.cidr ? ` ${n.cidr}` : ''}`));
  section('elasticity', plan.elastic.map((e) => `  ${e.target} ${e.minInstances}..${e.maxInstances} (${e.source}${e.frontEnd ? `, front end ${e.frontEnd}` : ''})`));
  section('order', plan.order.length ? [`  ${plan.order.join(' → ')}`] : []);
  section('outputs', Object.entries(plan.outputs).map(([k, o]) => `  ${k} = ${formatValue(o.value)}`));
  return `${out.join('\n')}\n`;
}
