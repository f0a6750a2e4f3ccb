/** The stage switch through the Focus: who may switch it, everyone follows, a joiner gets it, a new share turns it to the screen. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConference } from './support.js';
import { ServerHarness } from './serverHarness.js';

describe('stage switch', () => {
  let h: ServerHarness<'alice' | 'bob'>;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    h = await ServerHarness.start(['alice', 'bob']);
    ({ alice, bob } = h.cookies);
  });
  afterAll(async () => h.dispose());

  it('the organizer switches it for everyone; an attendee is refused; a joiner gets it in its welcome', async () => {
    const conf = await createConference(h.url, alice, { guests: 'allow' });
    const join = (cookie?: string, name?: string) => h.join(conf, cookie, name);
    const org = await join(alice);
    const att = await join(bob);
    expect(org.w.stage).toMatchObject({ view: 'screen', by: null });

    expect(await org.c.request({ type: 'stage.set', view: 'whiteboard' })).toMatchObject({ type: 'ack' });
    expect((await att.c.next('stage.updated')).stage).toMatchObject({ view: 'whiteboard', by: 'Alice' });
    await org.c.next('stage.updated');

    const refused = await att.c.request({ type: 'stage.set', view: 'slides' });
    expect(refused).toMatchObject({ type: 'error', code: 'policy' });
    expect((refused as { message: string }).message).toContain('switch the stage');
    // An unknown view never reaches the Focus.
    expect(await org.c.request({ type: 'stage.set', view: 'video' })).toMatchObject({ type: 'error', code: 'bad_request' });

    const late = await join(undefined, 'Gus');
    expect(late.w.stage).toMatchObject({ view: 'whiteboard', by: 'Alice' });

    // A share that starts turns everyone's stage to the screen.
    expect(await org.c.request({ type: 'share.start', kind: 'browser' })).toMatchObject({ type: 'ack' });
    expect((await late.c.next('stage.updated')).stage.view).toBe('screen');
    for (const x of [org, att, late]) x.c.close();
  });
});
