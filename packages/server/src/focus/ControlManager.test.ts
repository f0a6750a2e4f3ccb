import { describe, expect, it } from 'vitest';
import { ControlManager } from './ControlManager.js';

describe('ControlManager: a withdrawn request', () => {
  it('leaves the pending list at once, and a grant arriving after it gives nothing', () => {
    const cm = new ControlManager();
    const changes: (string[] | null)[] = [];
    cm.on('changed', (s) => changes.push(s ? s.requests : null));
    cm.handleStart('H', 'agent');
    expect(cm.handleRequest('B')).toBe(true);
    cm.handleCancel('B');
    expect(cm.state?.requests).toEqual([]);
    expect(changes.at(-1)).toEqual([]);
    // The agent's prompt was still open: its "yes" comes after the cancel.
    expect(cm.handleGrant('B')).toBe(false);
    expect(cm.controllerId).toBeNull();
    // Asking again makes a grant count again.
    cm.handleRequest('B');
    expect(cm.handleGrant('B')).toBe(true);
    expect(cm.controllerId).toBe('B');
  });

  it('a grant to someone who never asked still works (the host may offer control)', () => {
    const cm = new ControlManager();
    cm.handleStart('H', 'agent');
    expect(cm.handleGrant('C')).toBe(true);
    expect(cm.controllerId).toBe('C');
  });
});
