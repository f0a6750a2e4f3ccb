/**
 * Many conferences share one JanusAudioService: each AudioBridgeServer listens for up/down on it and
 * lets go on close. A server with more than ten audio rooms must not trip Node's listener-leak
 * warning, and closing must leave no listener behind. No Janus needed: nothing here connects.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AudioBridgeServer } from './AudioBridgeServer.js';
import { JanusAudioService } from './JanusAudioService.js';

describe('AudioBridgeServer on a shared JanusAudioService', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('takes 50 rooms without a MaxListeners warning, and closing them removes every listener', async () => {
    process.on('warning', onWarning);
    const service = new JanusAudioService({ url: () => null });
    const rooms = Array.from({ length: 50 }, (_, i) => new AudioBridgeServer({ conferenceId: `c${i}`, service }));
    expect(service.listenerCount('up')).toBe(50);
    // Node emits the warning on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    for (const r of rooms) r.close();
    expect([service.listenerCount('up'), service.listenerCount('down')]).toEqual([0, 0]);
  });
});
