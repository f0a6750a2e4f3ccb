/**
 * Audio conferencing on the conference socket: the shapes the audio.* messages carry. The server
 * mixes the audio (an MCU, Janus AudioBridge); each client has one WebRTC connection to it, set up
 * by an SDP offer the Focus relays. See docs/protocol.md, "Audio".
 */
import { z } from 'zod';

/** Largest SDP offer accepted for audio (an Opus-only offer is about 3 KB). */
export const MAX_AUDIO_SDP = 12_000;

/** An SDP offer with an audio section; anything else is refused before it reaches the mixer. */
export const AudioSdp = z
  .string()
  .max(MAX_AUDIO_SDP, `sdp is longer than ${MAX_AUDIO_SDP} characters`)
  .refine((s) => s.startsWith('v=0') && /\r?\nm=audio /.test(s), 'not an SDP offer with an audio section');

/** One participant's audio leg, as the roster shows it. */
export const AudioParticipant = z.object({
  id: z.string().min(1).max(64),
  /** Not sending (self-muted, muted by an organizer, or listen-only). */
  muted: z.boolean(),
  /** Joined without a microphone. */
  listenOnly: z.boolean(),
  /** The mixer hears speech from this participant now (re-evaluated every 200 ms). */
  speaking: z.boolean(),
  /** Media flows (ICE and DTLS are up); false while connecting. */
  connected: z.boolean(),
});
export type AudioParticipant = z.infer<typeof AudioParticipant>;

/**
 * A telephone number, E.164: '+', country code, subscriber number, 8 to 15 digits in all. Spaces,
 * dashes, dots and parentheses people type are removed first; anything else is refused.
 */
export const PhoneNumber = z
  .string()
  .max(32, 'a phone number is at most 32 characters')
  .transform((s) => s.replace(/[\s().-]/g, ''))
  .refine((s) => /^\+[1-9]\d{7,14}$/.test(s), 'not a phone number: give it in international form, e.g. +44 20 7946 0000');
export type PhoneNumber = z.infer<typeof PhoneNumber>;

/** +44•••••1234: the country code and last four digits, so the roster never shows a whole number. */
export function maskPhoneNumber(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  const head = digits.slice(0, 2);
  const tail = digits.slice(-4);
  return `+${head}${'•'.repeat(Math.max(1, digits.length - 6))}${tail}`;
}

/** Where a dialled telephone leg is: ringing, in the call, or how it ended (kept a moment for the roster). */
export const PhoneLegState = z.enum(['calling', 'ringing', 'answered', 'busy', 'no-answer', 'failed', 'ended']);
export type PhoneLegState = z.infer<typeof PhoneLegState>;

/** A telephone in the meeting's audio, dialled out over SIP. Its audio leg (mute, speaking) is in participants under the same id. */
export const PhoneLeg = z.object({
  id: z.string().min(1).max(64),
  /** The number, masked (+44•••••1234). */
  masked: z.string().max(40),
  state: PhoneLegState,
  /** Why it is in that state, in words (e.g. "busy (486 Busy Here)"). */
  detail: z.string().max(300),
  /** The participant whose own phone this is ("Call my phone"); null when someone dialled another number. */
  owner: z.string().max(64).nullable(),
  /** Who dialled it. */
  dialer: z.string().max(64),
  /** Shown in the roster: "Alice (phone)" or the masked number. */
  name: z.string().max(120),
});
export type PhoneLeg = z.infer<typeof PhoneLeg>;

/**
 * The conference's audio. service: `unconfigured` (this server has no audio mixer), `down` (the
 * mixer is restarting; legs were dropped and clients rejoin when it is `ready` again), `ready`.
 * added: someone added audio to this meeting, so the others are offered to join it.
 */
export const AudioState = z.object({
  service: z.enum(['unconfigured', 'down', 'ready']),
  added: z.boolean(),
  participants: z.array(AudioParticipant),
  /** This server can dial telephones (a SIP trunk is configured). Absent from older servers. */
  dialOut: z.boolean().optional(),
  /** Telephones dialled into the audio (absent: none). */
  phones: z.array(PhoneLeg).optional(),
});
export type AudioState = z.infer<typeof AudioState>;

export const NO_AUDIO: AudioState = Object.freeze({ service: 'unconfigured', added: false, participants: [] }) as AudioState;
