/**
 * Schema migrations, applied in order and recorded in `schema_migrations`. Never edit a shipped
 * migration: append a new one.
 */

/** What migrate() needs of a database: SqliteDb and PgDb both have it. */
export interface MigrationDb {
  exec(sql: string): Promise<void>;
  run(sql: string, params?: unknown[]): Promise<unknown>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction<T>(fn: (tx: MigrationDb) => Promise<T>): Promise<T>;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'infrastructures, vms, jobs, elastic state',
    sql: `
      CREATE TABLE infrastructures (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        template TEXT NOT NULL,
        plan TEXT NOT NULL,
        credentials TEXT NOT NULL,
        ssh_public_key TEXT NOT NULL,
        ssh_private_key TEXT NOT NULL,
        phase TEXT NOT NULL,
        contmsg TEXT NOT NULL DEFAULT '',
        outputs TEXT NOT NULL DEFAULT '{}',
        next_vm_id INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX infrastructures_owner ON infrastructures(owner);
      CREATE TABLE vms (
        infrastructure_id TEXT NOT NULL REFERENCES infrastructures(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        node_name TEXT NOT NULL,
        cloud_id TEXT NOT NULL,
        cloud_type TEXT NOT NULL,
        client_token TEXT NOT NULL UNIQUE,
        handle TEXT,
        state TEXT NOT NULL,
        configured INTEGER,
        private_ips TEXT NOT NULL DEFAULT '[]',
        public_ips TEXT NOT NULL DEFAULT '[]',
        contmsg TEXT NOT NULL DEFAULT '',
        removing INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (infrastructure_id, id)
      );
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        infrastructure_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER,
        error TEXT,
        result TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX jobs_open ON jobs(status, infrastructure_id, id);
      CREATE TABLE elastic_state (
        infrastructure_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (infrastructure_id, key)
      );
    `,
  },
  {
    version: 2,
    name: 'infrastructure owners (ChangeInfrastructureAuth)',
    sql: `
      CREATE TABLE infrastructure_owners (
        infrastructure_id TEXT NOT NULL REFERENCES infrastructures(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        owner TEXT NOT NULL,
        username TEXT NOT NULL,
        PRIMARY KEY (infrastructure_id, position)
      );
    `,
  },
  {
    version: 3,
    name: 'server settings (the key check value)',
    sql: `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  },
  {
    version: 4,
    name: 'named leases (the elasticity manager of an infrastructure)',
    sql: `CREATE TABLE leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);`,
  },
  {
    version: 5,
    name: 'create budgets of cloud accounts (one row per token spent)',
    sql: `CREATE TABLE budget_spent (key TEXT NOT NULL, spent_at INTEGER NOT NULL); CREATE INDEX budget_spent_key ON budget_spent(key, spent_at);`,
  },
];

/** Applies the migrations not yet recorded; returns the versions applied now. */
export async function migrate(db: MigrationDb, list: Migration[] = migrations): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, new Date().toISOString()]);
    });
    applied.push(m.version);
  }
  return applied;
}
