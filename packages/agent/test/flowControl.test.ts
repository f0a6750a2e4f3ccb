import { describe, expect, it } from 'vitest';
import { FlowControl } from '../src/FlowControl.js';
import { meetingEndpoints, MeetingUrlError } from '../src/ShareClient.js';

describe('FlowControl', () => {
  it('allows at most maxInFlight unacknowledged frames and signals when unblocked', () => {
    const f = new FlowControl({ maxInFlight: 2, maxSmallInFlight: 2, maxBuffered: 1000 });
    let unblocked = 0;
    f.on('unblocked', () => unblocked++);
    expect(f.canSend()).toBe(true);
    expect(f.nextSeq()).toBe(1);
    expect(f.nextSeq()).toBe(2);
    expect(f.canSend()).toBe(false);
    f.ack(7); // not in flight: ignored
    expect(f.inFlight).toBe(2);
    f.ack(1);
    expect(f.canSend()).toBe(true);
    expect(unblocked).toBe(1);
    expect(f.canSend(1000)).toBe(false); // socket buffer full
    f.nextSeq();
    f.ack(3); // cumulative
    expect(f.inFlight).toBe(0);
  });

  it('lets small frames run ahead of the two-frame window, never big ones', () => {
    const f = new FlowControl({ maxInFlight: 2, maxSmallInFlight: 5, smallBytes: 1000 });
    let unblocked = 0;
    f.on('unblocked', () => unblocked++);
    // Small frames (a typed character, a clock): up to maxSmallInFlight before an ack.
    for (let i = 0; i < 5; i++) {
      expect(f.canSend()).toBe(true);
      f.nextSeq(100);
    }
    expect(f.inFlight).toBe(5);
    expect(f.bytesInFlight).toBe(500);
    expect(f.canSend()).toBe(false);
    f.ack(5);
    expect(unblocked).toBe(1);
    expect(f.bytesInFlight).toBe(0);
    // A big frame: still two at most, as before.
    f.nextSeq(50_000);
    expect(f.canSend()).toBe(true);
    f.nextSeq(50_000);
    expect(f.canSend()).toBe(false);
    expect(f.windowFull).toBe(true);
    f.ack(6);
    expect(f.canSend()).toBe(true);
    expect(f.bytesInFlight).toBe(50_000);
    // Small frames behind a big one in flight wait like before (the bytes are over the budget).
    f.nextSeq(100);
    expect(f.canSend()).toBe(false);
    f.ack(7);
    expect(f.bytesInFlight).toBe(100);
    expect(f.canSend()).toBe(true);
    expect(unblocked).toBe(3);
    // What the window allows for frames of a given size (the rate's viewers bound).
    expect(f.windowFor(100)).toBe(5);
    expect(f.windowFor(400)).toBe(3);
    expect(f.windowFor(50_000)).toBe(2);
    f.reset();
    expect(f.bytesInFlight).toBe(0);
    expect(f.inFlight).toBe(0);
  });

  it('survives uint32 wrap-around', () => {
    const f = new FlowControl({ startSeq: 0xfffffffe });
    expect(f.nextSeq()).toBe(0xffffffff);
    expect(f.nextSeq()).toBe(0);
    expect(f.inFlight).toBe(2);
    f.ack(0xffffffff);
    expect(f.inFlight).toBe(1);
    f.ack(0);
    expect(f.inFlight).toBe(0);
    f.nextSeq();
    f.reset();
    expect(f.inFlight).toBe(0);
  });
});

describe('meetingEndpoints', () => {
  it('derives the socket URLs from the meeting URL', () => {
    expect(meetingEndpoints('http://localhost:8080/m/abc-123')).toEqual({
      meetingId: 'abc-123',
      conferenceUrl: 'ws://localhost:8080/ws/conference/abc-123',
      shareUrl: 'ws://localhost:8080/ws/share',
    });
    expect(meetingEndpoints('https://baton.example.org/base/m/XyZ/').conferenceUrl).toBe('wss://baton.example.org/base/ws/conference/XyZ');
    expect(() => meetingEndpoints('ftp://x/m/a')).toThrow(MeetingUrlError);
    expect(() => meetingEndpoints('http://x/meeting/a')).toThrow(MeetingUrlError);
  });
});
