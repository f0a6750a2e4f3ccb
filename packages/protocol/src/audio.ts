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
 * The conference's audio. service: `unconfigured` (this server has no audio mixer), `down` (the
 * mixer is restarting; legs were dropped and clients rejoin when it is `ready` again), `ready`.
 * added: someone added audio to this meeting, so the others are offered to join it.
 */
export const AudioState = z.object({
  service: z.enum(['unconfigured', 'down', 'ready']),
  added: z.boolean(),
  participants: z.array(AudioParticipant),
});
export type AudioState = z.infer<typeof AudioState>;

export const NO_AUDIO: AudioState = Object.freeze({ service: 'unconfigured', added: false, participants: [] }) as AudioState;
