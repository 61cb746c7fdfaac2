/**
 * The statements of a login (its look-up and its writes) run on every request that costs an
 * argon2 verification, so they skip TypeORM's query runner (a pool checkout, a runner object and
 * its bookkeeping per call) and go to the driver's pool as named prepared statements: PostgreSQL
 * parses and plans each once per connection, and later calls send only the parameters. Everything
 * else keeps TypeORM.
 *
 * The embedded PGlite multiplexes every connection onto its one session, where a name prepared
 * by one connection collides with the same name prepared by another: there the statements go
 * unnamed (parsed per call, as TypeORM's are). Behind PgBouncer, named statements need session
 * pooling, or transaction pooling with `max_prepared_statements` (PgBouncer 1.21 and later).
 *
 * Errors are pg's own (`code`, `constraint`), which postgres-errors.ts reads as it reads TypeORM's.
 */
import type { DataSource } from 'typeorm';
import type { Pool, QueryResultRow } from 'pg';

/** A statement with a name unique in the process: pg prepares it on each connection on first use. */
export interface PreparedStatement<Row extends QueryResultRow> {
  readonly name: string;
  readonly text: string;
  /** Phantom: the row type the statement yields. */
  readonly row?: Row;
}

const names = new Set<string>();

export function preparedStatement<Row extends QueryResultRow>(name: string, text: string): PreparedStatement<Row> {
  if (names.has(name)) throw new Error(`Prepared statement ${name} is declared twice`);
  names.add(name);
  return { name, text };
}

/** Whether each data source's server keeps a session per connection (all but PGlite), asked once. */
const namingByDataSource = new WeakMap<DataSource, Promise<boolean>>();

/** Runs hot-path statements on the pool behind a TypeORM PostgreSQL data source. */
export class PreparedStatements {
  constructor(private readonly dataSource: DataSource) {}

  async rows<Row extends QueryResultRow>(statement: PreparedStatement<Row>, values: unknown[]): Promise<Row[]> {
    const pool = this.pool();
    const named = await this.canName(pool);
    const result = await pool.query<Row>(named ? { name: statement.name, text: statement.text, values } : { text: statement.text, values });
    return result.rows;
  }

  private canName(pool: Pool): Promise<boolean> {
    let answer = namingByDataSource.get(this.dataSource);
    if (!answer) {
      answer = pool.query<{ version: string }>('SELECT version()').then((result) => !result.rows[0].version.includes('PGlite'));
      // A failed question (the database is down) is asked again by the next call.
      answer.catch(() => namingByDataSource.delete(this.dataSource));
      namingByDataSource.set(this.dataSource, answer);
    }
    return answer;
  }

  /** The driver's pool exists once the data source is initialized, and is replaced if it is re-initialized. */
  private pool(): Pool {
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    // 08003 connection_does_not_exist: answered as the database being unavailable (503), not a bug.
    if (!pool) throw Object.assign(new Error('The database is not connected'), { code: '08003' });
    return pool;
  }
}
