/** `tosca-im plan` — placeholder until its issue lands. */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('tosca-im plan: not implemented yet\n');
  return 1;
}
