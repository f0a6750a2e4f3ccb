/**
 * Allocates a conferencing server for a conference and a media type. Today every server runs in
 * this process; the factory is the seam where a multi-node deployment picks another node.
 */
import { AppShareServer } from '../sharing/AppShareServer.js';
import type { AppShareServerLike, MediaType } from './types.js';

export interface ConferencingServerFactoryOptions {
  log?: { warn(obj: unknown, msg?: string): void };
}

export class ConferencingServerFactory {
  readonly #opts: ConferencingServerFactoryOptions;
  readonly #live = new Set<AppShareServerLike>();

  constructor(opts: ConferencingServerFactoryOptions = {}) {
    this.#opts = opts;
  }

  allocate(conferenceId: string, media: MediaType, hostId: string): AppShareServerLike {
    switch (media) {
      case 'appshare': {
        const server = new AppShareServer({ conferenceId, hostId });
        this.#live.add(server);
        server.on('closed', () => this.#live.delete(server));
        server.on('protocolError', (e) => this.#opts.log?.warn({ conferenceId, ...e }, 'sharing protocol error'));
        return server;
      }
    }
  }

  get liveServers(): number {
    return this.#live.size;
  }

  close(): void {
    for (const s of [...this.#live]) s.close();
  }
}
