/**
 * A promise face for a pg Pool with the same shape as SqliteDb: `?` placeholders (rewritten to
 * $1, $2, … once per statement text), run/get/all/exec, and transaction(fn) on one pooled client.
 * A transaction that dies of a deadlock or a serialization failure is retried: both are
 * PostgreSQL's way of saying "try again", and every transaction here is safe to repeat.
 */
import { Pool, type PoolClient } from 'pg';
import type { Row } from './rows';

export type Params = unknown[];

interface Statement { name: string; text: string }
const statements = new Map<string, Statement>();

/**
 * `?` → `$n` (our SQL has no `?` inside literals: the JSON operators used are `->`), and a name:
 * pg prepares a named statement once per connection, so PostgreSQL plans it once, not per query
 * (a third of a /state request's database time).
 */
function statement(sql: string): Statement | string {
  let out = statements.get(sql);
  if (out === undefined) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    if (statements.size >= 1000) return text; // unnamed: a caller building SQL from data must not grow this
    out = { name: `s${statements.size + 1}`, text };
    statements.set(sql, out);
  }
  return out;
}

const RETRYABLE = new Set(['40001', '40P01']);

interface Queryable {
  query(sql: string | { name: string; text: string; values?: Params }, params?: Params): Promise<{ rows: Row[]; rowCount: number | null }>;
}

export class PgDb {
  private constructor(private readonly q: Queryable, private readonly pool?: Pool) {}

  static async open(url: string, max = 10): Promise<PgDb> {
    const pool = new Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
    // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const client = await pool.connect().catch((e: Error) => {
      void pool.end();
      throw new Error(`Cannot connect to PostgreSQL: ${e.message}`);
    });
    client.release();
    return new PgDb(pool as unknown as Queryable, pool);
  }

  private query(sql: string, params: Params) {
    const st = statement(sql);
    return typeof st === 'string' ? this.q.query(st, params) : this.q.query({ ...st, values: params });
  }

  async run(sql: string, params: Params = []): Promise<{ changes: number; rows: Row[] }> {
    const r = await this.query(sql, params);
    return { changes: r.rowCount ?? 0, rows: r.rows };
  }

  async get<T = Row>(sql: string, params: Params = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async all<T = Row>(sql: string, params: Params = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  /** Several statements, no parameters (the simple query protocol). */
  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }

  async transaction<T>(fn: (tx: PgDb) => Promise<T>): Promise<T> {
    if (!this.pool) return fn(this); // already inside one
    for (let attempt = 1; ; attempt++) {
      const client: PoolClient = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const value = await fn(new PgDb(client as unknown as Queryable));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (attempt < 5 && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      } finally {
        client.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }
}
