import { useEffect, useRef, useState } from 'react';
import type { ConferenceClient } from '../conference/ConferenceClient';
import type { Notifier } from '../notify/Notifier';
import i18n from '../i18n';

const MAX_PREVIEW = 120;

/**
 * Turns what happens in the meeting into notifications: a knock in the lobby, a control request,
 * a chat message while the chat is hidden (or the tab is in the background), someone starting to
 * share, and the server's notices. Returns the number of chat messages not yet seen.
 */
export function useMeetingAlerts(client: ConferenceClient, notifier: Notifier, chatVisible: boolean): number {
  const [unread, setUnread] = useState(0);
  const seeing = useRef(chatVisible);
  seeing.current = chatVisible;

  useEffect(() => {
    let hostId = client.snapshot.share?.hostId ?? null;
    const offHand = client.on('handRaised', (h) => {
      const snap = client.snapshot;
      const self = snap.roster.find((p) => p.id === snap.selfId);
      if (h.participantId !== snap.selfId && !(self && h.person === (self.person ?? self.id))) notifier.notify('hand', i18n.t('alerts.hand', { name: h.name }));
    });
    const offNotice = client.on('notice', ({ text }) => notifier.notify('notice', text.charAt(0).toUpperCase() + text.slice(1)));
    const offMessage = client.on('message', (msg) => {
      const snap = client.snapshot;
      const self = snap.roster.find((p) => p.id === snap.selfId) ?? null;
      switch (msg.type) {
        case 'participant.joined': {
          const p = msg.participant;
          if (p.status === 'lobby' && p.id !== snap.selfId) notifier.notify('lobby', i18n.t(p.user ? 'alerts.lobby' : 'alerts.lobbyGuest', { name: p.name }));
          break;
        }
        case 'control.requested':
          if (msg.participantId !== snap.selfId) notifier.notify('control', i18n.t(msg.user ? 'alerts.control' : 'alerts.controlGuest', { name: msg.name }));
          break;
        case 'chat.message': {
          const m = msg.message;
          if (m.senderId === snap.selfId) break;
          const away = !seeing.current || document.hidden;
          if (!away) break;
          setUnread((n) => n + 1);
          const text = m.text.length > MAX_PREVIEW ? `${m.text.slice(0, MAX_PREVIEW)}…` : m.text;
          notifier.notify('chat', `${m.senderName}: ${text}`);
          break;
        }
        case 'share.updated': {
          const next = msg.share?.hostId ?? null;
          if (next && next !== hostId && next !== snap.selfId) {
            const host = snap.roster.find((p) => p.id === next);
            // The page's own agent starting is shown by the Share desktop dialog's "Connected".
            const mine = !!host?.user && host.user === self?.user;
            if (!mine) notifier.notify('share', i18n.t(msg.share?.kind === 'agent' ? 'alerts.shareDesktop' : 'alerts.shareScreen', { name: host?.name ?? i18n.t('alerts.someone') }));
          }
          hostId = next;
          break;
        }
        case 'welcome':
          hostId = msg.share?.hostId ?? null;
          break;
        default:
          break;
      }
    });
    return () => {
      offHand();
      offNotice();
      offMessage();
    };
  }, [client, notifier]);

  // Seen once the chat is open in a visible tab.
  useEffect(() => {
    const check = () => {
      if (seeing.current && !document.hidden) setUnread(0);
    };
    check();
    document.addEventListener('visibilitychange', check);
    return () => document.removeEventListener('visibilitychange', check);
  }, [chatVisible]);

  return unread;
}
