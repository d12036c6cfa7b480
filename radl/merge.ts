/**
 * IM's AddResource on RADL: the posted document may refer to aspects of the infrastructure's RADL by name
 * (`system front` without features); what it defines replaces or extends them, its deploys add VMs and its
 * contextualize updates the stored one.
 */
import { RadlError } from './errors';
import { Configure, FeatureAspect, Radl } from './model';

function replaceOrAdd<T extends FeatureAspect | Configure>(list: T[], item: T, id: (x: T) => string): void {
  const i = list.findIndex((x) => id(x) === id(item));
  if (i >= 0) list[i] = item;
  else list.push(item);
}

/** A new Radl: `base` updated with `posted`. A reference to something `base` does not define is an error. */
export function mergeRadl(base: Radl, posted: Radl, file = 'radl'): Radl {
  const out = new Radl();
  out.networks.push(...base.networks);
  out.ansibleHosts.push(...base.ansibleHosts);
  out.systems.push(...base.systems);
  out.configures.push(...base.configures);
  out.deploys.push(...base.deploys);
  out.description = posted.description ?? base.description;
  out.contextualize.update(base.contextualize);
  for (const a of [...posted.networks, ...posted.systems, ...posted.ansibleHosts]) {
    const list = a.cls === 'network' ? out.networks : a.cls === 'system' ? out.systems : out.ansibleHosts;
    if (a.reference) {
      if (!list.some((x) => x.id === a.id)) throw new RadlError('invalid', `${a.cls} "${a.id}" is not defined in the infrastructure`, file, a.loc.line, a.loc.column, [a.id]);
      continue;
    }
    replaceOrAdd(list, a, (x) => x.id);
  }
  for (const c of posted.configures) {
    if (c.reference) {
      if (!out.configures.some((x) => x.name === c.name)) throw new RadlError('invalid', `configure "${c.name}" is not defined in the infrastructure`, file, c.loc.line, c.loc.column, [c.name]);
      continue;
    }
    replaceOrAdd(out.configures, c, (x) => x.name);
  }
  for (const d of posted.deploys) {
    if (!out.systems.some((s) => s.id === d.system)) throw new RadlError('invalid', `deploy of an undefined system "${d.system}"`, file, d.loc.line, d.loc.column, [d.system]);
    out.deploys.push(d);
  }
  out.contextualize.update(posted.contextualize);
  return out;
}

/**
 * IM's Reconfigure with a RADL body: the posted configures replace (or add to) the infrastructure's, its
 * contextualize updates the stored one; everything else posted (systems, deploys) is ignored, as IM does.
 */
export function mergeReconfigure(base: Radl, posted: Radl): Radl {
  const out = mergeRadl(base, new Radl());
  for (const c of posted.configures) if (!c.reference) replaceOrAdd(out.configures, c, (x) => x.name);
  out.contextualize.update(posted.contextualize);
  return out;
}
