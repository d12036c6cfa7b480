/** Which YAML maps are intrinsic function calls: exactly one key, and it names a function. */
import { isRecord } from '../util';

export const FUNCTION_NAMES = new Set([
  'get_input', 'get_property', 'get_attribute', 'concat', 'join', 'token', 'get_artifact', 'get_operation_output',
  'get_nodes_of_type',
]);

export function functionName(v: unknown): string | undefined {
  if (!isRecord(v)) return undefined;
  let name: string | undefined;
  for (const k in v) {
    if (name !== undefined) return undefined;
    name = k;
  }
  return name !== undefined && FUNCTION_NAMES.has(name) ? name : undefined;
}

/** True when the value contains a function call anywhere. */
export function containsFunction(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsFunction);
  if (!isRecord(v)) return false;
  if (functionName(v)) return true;
  for (const k in v) if (containsFunction(v[k])) return true;
  return false;
}
