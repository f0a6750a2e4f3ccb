/**
 * Sharing state and the control token ("the baton") of one conference: who shares, who controls,
 * who is waiting for an answer. One controller at a time. It only records decisions: the Focus has
 * authorized the command before, and the grant itself always comes from the host agent.
 */
import type { ShareKind, ShareState } from '@baton/protocol';
import { TypedEmitter } from '../util/TypedEmitter.js';

export type ControlManagerEvents = {
  /** Any change of the sharing state; null when nobody shares. */
  changed: [ShareState | null];
  /** The controller changed (null: nobody controls). */
  controller: [string | null];
};

export class ControlManager extends TypedEmitter<ControlManagerEvents> {
  #state: { hostId: string; kind: ShareKind; controllerId: string | null; requests: Set<string>; transport: 'server' | 'p2p'; paused: boolean } | null = null;
  /** Who withdrew a request during this share: the host's answer may still be on its way. */
  readonly #withdrawn = new Set<string>();

  get state(): ShareState | null {
    const s = this.#state;
    return s ? { hostId: s.hostId, kind: s.kind, controllerId: s.controllerId, requests: [...s.requests], transport: s.transport, ...(s.paused ? { paused: true } : {}) } : null;
  }

  get hostId(): string | null {
    return this.#state?.hostId ?? null;
  }

  get controllerId(): string | null {
    return this.#state?.controllerId ?? null;
  }

  handleStart(hostId: string, kind: ShareKind): void {
    if (this.#state?.hostId === hostId && this.#state.kind === kind) return;
    this.#state = { hostId, kind, controllerId: null, requests: new Set(), transport: 'server', paused: false };
    this.#withdrawn.clear();
    this.#changed(true);
  }

  handleStop(): void {
    if (!this.#state) return;
    const hadController = this.#state.controllerId !== null;
    this.#state = null;
    this.#withdrawn.clear();
    if (hadController) this.emit('controller', null);
    this.emit('changed', null);
  }

  /** Returns false when the request was already pending (no news for the host). */
  handleRequest(participantId: string): boolean {
    const s = this.#state;
    if (!s || s.requests.has(participantId)) return false;
    this.#withdrawn.delete(participantId);
    s.requests.add(participantId);
    this.#changed(false);
    return true;
  }

  /** Returns false, and grants nothing, when the participant withdrew its request. */
  handleGrant(participantId: string): boolean {
    const s = this.#state;
    if (!s) return false;
    if (this.#withdrawn.has(participantId)) return false;
    s.requests.delete(participantId);
    s.controllerId = participantId;
    this.#changed(true);
    return true;
  }

  /** The requester no longer wants control (it cancelled while the host's agent was asking). */
  handleCancel(participantId: string): void {
    const s = this.#state;
    if (!s || !s.requests.delete(participantId)) return;
    this.#withdrawn.add(participantId);
    this.#changed(false);
  }

  handleDeny(participantId: string): void {
    const s = this.#state;
    if (!s || !s.requests.delete(participantId)) return;
    this.#changed(false);
  }

  /** Host takes the baton back, or an organizer revokes it. */
  handleRevoke(): void {
    const s = this.#state;
    if (!s || s.controllerId === null) return;
    s.controllerId = null;
    this.#changed(true);
  }

  handleRelease(participantId: string): void {
    if (this.#state?.controllerId === participantId) this.handleRevoke();
  }

  /** A participant left or lost the right to control: drop its request and its control. */
  handleGone(participantId: string): void {
    const s = this.#state;
    if (!s) return;
    if (s.hostId === participantId) return this.handleStop();
    this.#withdrawn.delete(participantId);
    const hadRequest = s.requests.delete(participantId);
    if (s.controllerId === participantId) {
      s.controllerId = null;
      this.#changed(true);
    } else if (hadRequest) this.#changed(false);
  }

  /** The host paused or resumed its share (viewers show it; control stays where it is). */
  setPaused(paused: boolean): void {
    if (!this.#state || this.#state.paused === paused) return;
    this.#state.paused = paused;
    this.#changed(false);
  }

  setTransport(transport: 'server' | 'p2p'): void {
    if (!this.#state || this.#state.transport === transport) return;
    this.#state.transport = transport;
    this.#changed(false);
  }

  #changed(controllerMayHaveChanged: boolean): void {
    if (controllerMayHaveChanged) this.emit('controller', this.#state?.controllerId ?? null);
    this.emit('changed', this.state);
  }
}
