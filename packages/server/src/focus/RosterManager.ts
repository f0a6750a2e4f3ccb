/**
 * The roster of one conference: seats by id and by resume token, who sees whom (lobby seats are
 * visible to organizers only), and fan-out of messages to online seats.
 */
import type { ServerMessage } from '@baton/protocol';
import { type Seat, seatToWire, isModerator } from './Seat.js';

export class RosterManager {
  readonly #seats = new Map<string, Seat>();
  readonly #byResume = new Map<string, Seat>();

  get size(): number {
    return this.#seats.size;
  }

  add(seat: Seat): void {
    this.#seats.set(seat.id, seat);
    this.#byResume.set(seat.resumeToken, seat);
  }

  remove(id: string): Seat | undefined {
    const seat = this.#seats.get(id);
    if (!seat) return undefined;
    this.#seats.delete(id);
    this.#byResume.delete(seat.resumeToken);
    if (seat.graceTimer) clearTimeout(seat.graceTimer);
    seat.graceTimer = null;
    return seat;
  }

  get(id: string): Seat | undefined {
    return this.#seats.get(id);
  }

  byResumeToken(token: string): Seat | undefined {
    return this.#byResume.get(token);
  }

  byUserId(userId: string): Seat[] {
    return [...this.#seats.values()].filter((s) => s.userId === userId);
  }

  all(): Seat[] {
    return [...this.#seats.values()];
  }

  joined(): Seat[] {
    return this.all().filter((s) => s.status === 'joined');
  }

  /** The roster as this viewer may see it. */
  visibleTo(viewer: Seat) {
    return this.all()
      .filter((s) => s.status === 'joined' || isModerator(viewer) || s.id === viewer.id)
      .map(seatToWire);
  }

  /** Send to every online, joined seat (and, for lobby-related news, to moderators only). */
  broadcast(msg: ServerMessage, opts: { moderatorsOnly?: boolean; except?: string } = {}): void {
    for (const s of this.#seats.values()) {
      if (!s.link || s.status !== 'joined' || s.id === opts.except) continue;
      if (opts.moderatorsOnly && !isModerator(s)) continue;
      s.link.send(msg);
    }
  }

  /** Roster news about `seat`, sent to whoever may see it. */
  announce(seat: Seat, type: 'participant.joined' | 'participant.updated'): void {
    this.broadcast({ type, participant: seatToWire(seat) }, { moderatorsOnly: seat.status === 'lobby', except: seat.id });
  }

  /** Send to every online, joined seat that `pred` picks (e.g. the two parties of a private message). */
  sendWhere(pred: (s: Seat) => boolean, msg: ServerMessage): void {
    for (const s of this.#seats.values()) if (s.link && s.status === 'joined' && pred(s)) s.link.send(msg);
  }

  sendTo(id: string, msg: ServerMessage): void {
    this.#seats.get(id)?.link?.send(msg);
  }

  /** Send to a seat and to its user's other joined seats (e.g. the agent and that user's meeting pages). */
  sendToUserOf(id: string, msg: ServerMessage): void {
    const seat = this.#seats.get(id);
    if (!seat) return;
    seat.link?.send(msg);
    if (seat.userId === null) return;
    for (const s of this.#seats.values()) if (s !== seat && s.userId === seat.userId && s.status === 'joined') s.link?.send(msg);
  }
}
