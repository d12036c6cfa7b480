/**
 * Registries are layered and shared: one normative registry per process, one per distinct import set
 * (keyed by content hashes), and a thin template layer only when the template defines types itself.
 */
import { NORMATIVE_DEFINITIONS } from '../normative';
import { TYPE_SECTIONS, TypeRegistry } from '../types/registry';
import { isRecord } from '../util';
import { parseYaml, SourceFile } from '../yaml/source';

let normative: TypeRegistry | undefined;

export function normativeRegistry(): TypeRegistry {
  if (!normative) {
    const reg = new TypeRegistry();
    reg.addFile(parseYaml(NORMATIVE_DEFINITIONS, 'tosca-normative-types.yaml'));
    normative = reg;
  }
  return normative;
}

const importSets = new Map<string, TypeRegistry>();
const IMPORT_SET_LIMIT = 64;

export function importRegistry(files: SourceFile[]): TypeRegistry {
  const base = normativeRegistry();
  if (files.length === 0) return base;
  const key = files.map((f) => `${f.name}\0${f.hash}`).join('\n');
  let reg = importSets.get(key);
  if (!reg) {
    reg = new TypeRegistry(base);
    for (const f of files) reg.addFile(f);
    if (importSets.size >= IMPORT_SET_LIMIT) importSets.delete(importSets.keys().next().value as string);
    importSets.set(key, reg);
  }
  return reg;
}

export function templateRegistry(imports: TypeRegistry, file: SourceFile): TypeRegistry {
  const doc = file.value;
  if (!isRecord(doc) || !Object.keys(TYPE_SECTIONS).some((s) => isRecord(doc[s]))) return imports;
  const reg = new TypeRegistry(imports);
  reg.addFile(file);
  return reg;
}
