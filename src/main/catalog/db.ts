// Opens the studio's SQLite catalog (better-sqlite3, WAL) and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export function openCatalog(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // durable at each checkpoint; WAL keeps every commit consistent
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies every migration newer than the file's user_version; a newer file is refused. */
export function migrate(db: Db): void {
  const have = db.pragma('user_version', { simple: true }) as number;
  if (have > MIGRATIONS.length) {
    throw new Error(`the catalog was written by a newer MuFun Studio (schema ${have}, this one knows ${MIGRATIONS.length})`);
  }
  for (let v = have; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
