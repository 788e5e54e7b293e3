// The part of better-sqlite3's API the record uses (the package ships no types of its own, and
// @types/better-sqlite3 is not a dependency).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement<Args extends unknown[] = unknown[]> {
      run(...params: Args): RunResult;
      get(...params: Args): unknown;
      all(...params: Args): unknown[];
      pluck(toggle?: boolean): this;
    }
    interface Database {
      prepare<Args extends unknown[] = unknown[]>(sql: string): Statement<Args>;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...args: never[]) => unknown>(fn: F): F;
      close(): this;
      readonly open: boolean;
    }
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }
  }
  const Database: new (filename: string, options?: Database.Options) => Database.Database;
  export = Database;
}
