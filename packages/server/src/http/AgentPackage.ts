import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` leaves the packed agent (packages/agent/scripts/pack.mjs). */
export const DEFAULT_AGENT_PACK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../agent/dist-pack');
export const AGENT_TARBALL = 'baton-agent.tgz';

export interface AgentPackageOptions {
  dir: string;
}

export interface AgentTarball {
  bytes: Buffer;
  sha256: string;
}

/**
 * The packed agent the server hands out. Read from disk on first use and again whenever the file
 * changes (a rebuild while the server runs), so the bytes and the hash on the page always agree.
 */
export class AgentPackage {
  readonly #file: string;
  #cached: { key: string; tarball: AgentTarball } | null = null;

  constructor(opts: AgentPackageOptions) {
    this.#file = path.join(opts.dir, AGENT_TARBALL);
  }

  /** The tarball and its SHA-256, or null when the agent was not packed (source tree not built). */
  get(): AgentTarball | null {
    let key: string;
    try {
      const st = statSync(this.#file);
      if (!st.isFile()) return null;
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      return null;
    }
    if (this.#cached?.key !== key) {
      const bytes = readFileSync(this.#file);
      this.#cached = { key, tarball: { bytes, sha256: createHash('sha256').update(bytes).digest('hex') } };
    }
    return this.#cached.tarball;
  }
}
