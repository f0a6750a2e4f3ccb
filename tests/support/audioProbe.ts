/**
 * Installed in a test page (addInitScript) for the audio tests: it keeps every RTCPeerConnection with a
 * timeline of its state changes, and measures tone levels (dB) on the remote audio track with WebAudio.
 */
export function pageProbe() {
  const w = window as unknown as { __pcs: RTCPeerConnection[]; __timeline: string[]; __levels: (freqs: number[], ms: number) => Promise<Record<string, number>> };
  w.__pcs = [];
  w.__timeline = [];
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
      const t0 = performance.now();
      const mark = (what: string) => w.__timeline.push(`${what} +${Math.round(performance.now() - t0)}ms`);
      this.addEventListener('icegatheringstatechange', () => mark(`gathering ${this.iceGatheringState}`));
      this.addEventListener('connectionstatechange', () => mark(`connection ${this.connectionState}`));
      this.addEventListener('signalingstatechange', () => mark(`signaling ${this.signalingState}`));
    }
  } as typeof RTCPeerConnection;
  w.__levels = async (freqs, ms) => {
    const pc = [...w.__pcs].reverse().find((p) => p.connectionState === 'connected');
    const track = pc?.getReceivers().map((r) => r.track).find((t) => t && t.kind === 'audio' && t.readyState === 'live');
    if (!track) return { none: 1 };
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 4096;
    an.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
    const buf = new Float32Array(an.frequencyBinCount);
    const max = new Float32Array(an.frequencyBinCount).fill(-200);
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 40));
      an.getFloatFrequencyData(buf);
      for (let i = 0; i < buf.length; i++) if (buf[i]! > max[i]!) max[i] = buf[i]!;
    }
    const binHz = ctx.sampleRate / an.fftSize;
    await ctx.close();
    const level = (f: number) => {
      const b = Math.round(f / binHz);
      return Math.max(...Array.from(max.slice(b - 2, b + 3)));
    };
    return Object.fromEntries(freqs.map((f) => [String(f), Math.round(level(f))]));
  };
}
