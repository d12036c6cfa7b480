/** `tosca-im serve` — placeholder until its issue lands. */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('tosca-im serve: not implemented yet\n');
  return 1;
}
