/**
 * A promise face for one sqlite3 connection. Transactions are serialised by a queue: sqlite3 runs
 * statements of one connection in order, so without the queue another caller's statement could
 * land between our BEGIN and COMMIT.
 */
import sqlite3 from 'sqlite3';

export type Row = Record<string, unknown>;
export type Params = unknown[];

export class SqliteDb {
  private queue: Promise<unknown> = Promise.resolve();

  /** Write statements prepared once (sqlite3 would prepare each call anew), least recently used first. */
  private readonly statements = new Map<string, sqlite3.Statement>();

  private constructor(private readonly db: sqlite3.Database) {}

  private prepared(sql: string): sqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      // Patch statements vary with the patched columns: keep a bounded few.
      if (this.statements.size >= 64) {
        const [oldest, old] = this.statements.entries().next().value as [string, sqlite3.Statement];
        this.statements.delete(oldest);
        old.finalize();
      }
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  static open(file: string): Promise<SqliteDb> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, (err) => (err ? reject(new Error(`Cannot open SQLite database "${file}": ${err.message}`)) : resolve(new SqliteDb(db))));
    });
  }

  run(sql: string, params: Params = []): Promise<{ lastID: number; changes: number }> {
    return new Promise((resolve, reject) => {
      this.prepared(sql).run(params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ lastID: this.lastID, changes: this.changes });
      });
    });
  }

  get<T = Row>(sql: string, params: Params = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params, (err: Error | null, row: T) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T = Row>(sql: string, params: Params = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  /** Runs fn inside BEGIN IMMEDIATE … COMMIT, one transaction at a time. */
  transaction<T>(fn: (tx: SqliteDb) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      await this.exec('BEGIN IMMEDIATE');
      try {
        const value = await fn(this);
        await this.exec('COMMIT');
        return value;
      } catch (err) {
        await this.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * One write statement in its own turn of the transaction queue, without BEGIN/COMMIT: a single
   * statement is atomic by itself (autocommit), and each BEGIN or COMMIT is another trip to the
   * thread pool — most of a small write's time.
   */
  write(sql: string, params: Params = []): Promise<{ lastID: number; changes: number }> {
    const result = this.queue.then(() => this.run(sql, params));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    return this.queue.then(
      () => new Promise<void>((resolve, reject) => {
        for (const stmt of this.statements.values()) stmt.finalize();
        this.statements.clear();
        this.db.close((err) => (err ? reject(err) : resolve()));
      }),
    );
  }
}
