/** The ec2 simulator — placeholder until its issue lands. */
export interface SimOptions { host?: string; port?: number }
export async function startEc2Sim(_opts: SimOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  throw new Error('ec2 simulator not implemented yet');
}
