/** The openstack simulator — placeholder until its issue lands. */
export interface SimOptions { host?: string; port?: number }
export async function startOpenStackSim(_opts: SimOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  throw new Error('openstack simulator not implemented yet');
}
