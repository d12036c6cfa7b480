/** Plan a corpus template the way the corpus test does (import map, corpus-relative file names). */
import { readFileSync } from 'fs';
import { join } from 'path';
import { planTemplate, type PlanOptions } from '../../tosca';
import type { Plan } from '../../tosca/plan';
import { corpusDir, corpusPlanOptions } from './corpus';

export async function planCorpus(rel: string, extra: PlanOptions = {}): Promise<Plan> {
  const file = join(corpusDir(), rel);
  return planTemplate(readFileSync(file, 'utf8'), { ...corpusPlanOptions(file), ...extra });
}
