// basic_auth_users of the web config: bcrypt hashes, as in exporter-toolkit. A bcrypt run costs
// ~50–300 ms of CPU by design, so: bcryptjs's async compare (it yields to the event loop between
// rounds, scrapes keep flowing), successful logins cached by a hash of (user, password, bcrypt
// hash) so a scraper pays once, and only a few uncached runs at a time — past that the guard
// answers 503 + Retry-After instead of queueing CPU work an attacker can pile up.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { BasicAuthUsers } from './auth.js';

/** Runs for unknown users compare against this, so timing does not tell which users exist. */
const DUMMY_HASH = '$2b$10$CwTycUXWue0Thq9StjUM0uJ8.aBvRSUKV2Zl5nUaDWtc3ffxLW/vG';
const MAX_CACHED = 256;
const MAX_RUNNING = 4;

export class BcryptUsers implements BasicAuthUsers {
  private readonly cache = new Map<string, true>();
  private running = 0;

  constructor(private readonly users: Map<string, string>) {}

  get size(): number {
    return this.users.size;
  }

  async verify(user: string, password: string): Promise<boolean | 'busy'> {
    const hash = this.users.get(user);
    const key = createHash('sha256').update(`${user}\0${password}\0${hash ?? ''}`).digest('base64');
    if (hash && this.cache.has(key)) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, true);
      return true;
    }
    if (this.running >= MAX_RUNNING) return 'busy';
    this.running++;
    try {
      const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
      if (!ok || !hash) return false;
      this.cache.set(key, true);
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      return true;
    } catch {
      return false;
    } finally {
      this.running--;
    }
  }
}
