/** RADL size units as grycap/RADL reads them (radl.UnitToValue): K/M/G/T decimal, Ki/Mi/… binary, B optional. */
export function unitToValue(unit: string | undefined): number {
  if (!unit) return 1;
  let u = unit.toUpperCase();
  if (u.endsWith('B')) u = u.slice(0, -1);
  const table: Record<string, number> = {
    K: 1e3, KI: 1024, M: 1e6, MI: 1024 ** 2, G: 1e9, GI: 1024 ** 3, T: 1e12, TI: 1024 ** 4,
  };
  return table[u] ?? 1;
}
