/**
 * Telephones in a conference's audio, dialled out over the SIP trunk: "Call my phone" (a
 * participant's own number, remembered for signed-in users) and calls to other numbers. Each is a
 * PhoneCall (audio/sip) that joins the conference's AudioBridge room as a plain-RTP leg once
 * answered; its state (calling, ringing, answered, busy, no-answer, failed, ended) is in the roster
 * under a `phone-…` id with the number masked, and each change reaches whoever dialled it as a
 * notice. Commands arrive already authorized (authorize.ts); numbers are validated E.164 by zod.
 */
import { randomBytes } from 'node:crypto';
import { maskPhoneNumber, type PhoneLeg, type PhoneLegState } from '@baton/protocol';
import type { ConferencingServerFactory } from '../conferencing/ConferencingServerFactory.js';
import type { AudioServerLike } from '../conferencing/types.js';
import type { PhoneCall } from '../audio/sip/PhoneCall.js';
import { BadRequestError, ConflictError, NotFoundError, RateLimitedError } from '../errors.js';
import { TypedEmitter } from '../util/TypedEmitter.js';

export interface DialOutManagerOptions {
  conferenceId: string;
  factory: ConferencingServerFactory;
  /** The conference's audio room (allocated on first use by the AudioManager). */
  audioServer: () => AudioServerLike;
  /** Take a leg out of the mix if it is there (never allocates a room). */
  leaveMixer: (legId: string) => void;
  /** A signed-in user's remembered number (the store). */
  phoneBook: { get(userId: string): Promise<string | null>; set(userId: string, phone: string): Promise<void> };
  log?: { info?(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
  /** How long an ended leg stays in the roster so people see why it ended. */
  lingerMs?: number;
}

export type DialOutManagerEvents = {
  /** The phone legs changed: read legs(). */
  changed: [];
  /** Tell this participant (the dialler) what became of a call. */
  notice: [participantId: string, code: string, text: string];
};

/** At most this many phones in one meeting at once (each one is paid for on the trunk). */
export const MAX_PHONE_LEGS = 20;
/** Each participant places at most this many calls a minute (a page or script in a redial loop costs money). */
export const MAX_DIALS_PER_MINUTE = 6;

interface Leg {
  wire: PhoneLeg;
  call: PhoneCall;
  linger: NodeJS.Timeout | null;
}

const ACTIVE: PhoneLegState[] = ['calling', 'ringing', 'answered'];

export class DialOutManager extends TypedEmitter<DialOutManagerEvents> {
  readonly #opts: DialOutManagerOptions;
  readonly #legs = new Map<string, Leg>();
  /** When each participant placed their recent calls (ms), for MAX_DIALS_PER_MINUTE. */
  readonly #dials = new Map<string, number[]>();
  #closed = false;

  constructor(opts: DialOutManagerOptions) {
    super();
    this.#opts = opts;
  }

  get available(): boolean {
    return this.#opts.factory.dialOut;
  }

  legs(): PhoneLeg[] {
    return [...this.#legs.values()].map((l) => l.wire);
  }

  /** What authorize() needs: each leg's owner and dialler, and whether it is still live. */
  authzView(): Map<string, { owner: string | null; dialer: string; active: boolean }> {
    const m = new Map<string, { owner: string | null; dialer: string; active: boolean }>();
    for (const [id, l] of this.#legs) m.set(id, { owner: l.wire.owner, dialer: l.wire.dialer, active: ACTIVE.includes(l.wire.state) });
    return m;
  }

  /** The participant who speaks through this phone (its owner, or whoever dialled it). */
  speakerOf(legId: string): string | null {
    const l = this.#legs.get(legId);
    return l ? (l.wire.owner ?? l.wire.dialer) : null;
  }

  isLeg(id: string): boolean {
    return this.#legs.has(id);
  }

  /**
   * Dial. mine: the caller's own phone (number given: remembered for a signed-in user; absent: the
   * remembered one). Resolves with the leg id once the call is placed (not answered).
   */
  async handleDial(caller: { id: string; name: string; userId: string | null }, number: string | undefined, mine: boolean): Promise<string> {
    if (this.#closed) throw new NotFoundError('the meeting has ended');
    if (!this.available) throw new ConflictError('this server has no SIP trunk: telephones cannot be dialled');
    let e164 = number;
    if (mine && !e164) {
      e164 = caller.userId ? ((await this.#opts.phoneBook.get(caller.userId)) ?? undefined) : undefined;
      if (!e164) throw new BadRequestError('no phone number saved for you yet: enter your number');
    }
    if (!e164) throw new BadRequestError('give the number to call');
    const now = Date.now();
    const recent = (this.#dials.get(caller.id) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= MAX_DIALS_PER_MINUTE) throw new RateLimitedError(`at most ${MAX_DIALS_PER_MINUTE} calls a minute; wait a moment`);
    if (mine && [...this.#legs.values()].some((l) => l.wire.owner === caller.id && ACTIVE.includes(l.wire.state))) throw new ConflictError('your phone is already in the call');
    if ([...this.#legs.values()].filter((l) => ACTIVE.includes(l.wire.state)).length >= MAX_PHONE_LEGS) throw new ConflictError(`at most ${MAX_PHONE_LEGS} phones can be in one meeting`);
    if (mine && number && caller.userId) await this.#opts.phoneBook.set(caller.userId, number);
    const server = this.#opts.audioServer();
    recent.push(now);
    this.#dials.set(caller.id, recent);
    const id = `phone-${randomBytes(6).toString('hex')}`;
    const masked = maskPhoneNumber(e164);
    const name = mine ? `${caller.name} (phone)` : masked;
    const call = this.#opts.factory.dialPhone(e164, (codec, pt, relay) => server.handleJoinPhone(id, name, codec, pt, relay));
    if (!call) throw new ConflictError('this server has no SIP trunk: telephones cannot be dialled');
    const leg: Leg = { wire: { id, masked, state: 'calling', detail: 'calling', owner: mine ? caller.id : null, dialer: caller.id, name }, call, linger: null };
    this.#legs.set(id, leg);
    call.on('state', (state, detail) => this.#onState(leg, state, detail));
    call.on('dtmf', (digit) => this.#opts.log?.info?.({ conference: this.#opts.conferenceId, leg: id, digit }, 'phone: DTMF'));
    this.emit('changed');
    void call.start();
    return id;
  }

  /** Hang up a leg (authorized: its owner, dialler, or an organizer). */
  handleHangup(legId: string): void {
    const leg = this.#legs.get(legId);
    if (!leg || !ACTIVE.includes(leg.wire.state)) throw new NotFoundError('that phone is not in the call');
    leg.call.hangup();
  }

  /** The mixer dropped a leg (Janus restarted): the phone call cannot go on. */
  handleDropped(legId: string, reason: string): void {
    const leg = this.#legs.get(legId);
    if (!leg || !ACTIVE.includes(leg.wire.state)) return;
    this.#onState(leg, 'failed', reason); // ending the leg closes its call (BYE or CANCEL)
  }

  /** Audio ended in the meeting (policy off): every phone hangs up. */
  hangupAll(reason: string): void {
    for (const leg of this.#legs.values()) {
      if (!ACTIVE.includes(leg.wire.state)) continue;
      this.#onState(leg, 'ended', reason);
    }
  }

  #onState(leg: Leg, state: PhoneLegState, detail: string): void {
    if (this.#closed || !ACTIVE.includes(leg.wire.state)) return;
    leg.wire = { ...leg.wire, state, detail: detail.slice(0, 300) };
    const ended = !ACTIVE.includes(state);
    if (ended) {
      this.#opts.leaveMixer(leg.wire.id);
      leg.call.close();
      leg.linger = setTimeout(() => {
        this.#legs.delete(leg.wire.id);
        this.emit('changed');
      }, this.#opts.lingerMs ?? 8000);
      leg.linger.unref?.();
    }
    this.emit('changed');
    this.emit('notice', leg.wire.dialer, `phone.${state}`, `${leg.wire.name}: ${describe(state, detail)}`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const leg of this.#legs.values()) {
      if (leg.linger) clearTimeout(leg.linger);
      leg.call.close();
    }
    this.#legs.clear();
    this.removeAllListeners();
  }
}

function describe(state: PhoneLegState, detail: string): string {
  switch (state) {
    case 'calling': return 'calling…';
    case 'ringing': return 'ringing…';
    case 'answered': return 'answered, in the call';
    default: return detail; // busy, no-answer, failed, ended: the SIP side says why in words
  }
}
