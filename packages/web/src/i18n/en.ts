/**
 * The UI text, English: the source language. Other languages translate these keys; a key missing
 * there falls back to this text. Moved here so far: the site header, home page, join box, the
 * meeting header, notifications and the shortcuts dialog; the rest of the UI still has its English inline.
 */
export const en = {
  language: { label: 'Language' },
  topbar: { home: 'Baton home', signOut: 'Sign out', skip: 'Skip to main content' },
  home: {
    hello: 'Hello, {{name}}',
    newMeeting: 'New meeting',
    subject: 'Subject',
    optional: '(optional)',
    subjectPlaceholder: 'e.g. Release review',
    create: 'Create meeting',
    creating: 'Creating…',
    ready: '<0>{{subject}}</0> is ready.',
    enterNow: 'Enter the meeting now',
    copyLink: 'Copy link',
    later: 'Later',
    myMeetings: 'My meetings',
    loading: 'Loading…',
    noMeetings: 'You have not created any meetings yet.',
    showMore: 'Show more meetings',
    invitations: 'Invitations',
    noInvitations: 'Nobody has invited you to a meeting.',
    invitedBy: 'Invited by {{who}} · {{when}}',
    join: 'Join',
  },
  joinLink: {
    title: 'Join by link or code',
    label: 'Meeting link or code',
    placeholder: 'Paste a meeting link or code',
    submit: 'Join',
    invalid: 'That is not a meeting link or code. A link looks like https://…/m/AbC123…',
  },
  landing: {
    title: 'Meetings built around your desktop',
    pitch:
      'Share a real desktop with the Baton agent, hand over the keyboard and mouse when you choose, and chat with everyone in the room. Guests join from a link; no installation needed to watch.',
    noAccount: 'No account yet?',
    createOne: 'Create one',
  },
  meeting: {
    organizedBy: 'Organized by {{name}}',
    copyUrl: 'Copy meeting URL',
    chat: 'Chat',
    chatUnread: 'Chat, {{count}} unread',
    people: 'People',
    shortcuts: 'Keyboard shortcuts',
    shortcutsTitle: 'Keyboard shortcuts (?)',
    sound: 'Notification sound',
    soundOn: 'Notification sound is on',
    soundOff: 'Notification sound is off',
    invite: 'Invite',
    shareDesktop: 'Share desktop',
    settings: 'Settings',
    endForAll: 'End meeting for all',
    leave: 'Leave',
  },
  alerts: {
    hand: '{{name}} raised their hand',
    lobby: '{{name}} is waiting in the lobby',
    lobbyGuest: '{{name}} (guest) is waiting in the lobby',
    control: '{{name}} asks to control your screen',
    controlGuest: '{{name}} (guest) asks to control your screen',
    shareDesktop: '{{name}} started sharing a desktop',
    shareScreen: '{{name}} started sharing a screen',
    someone: 'Someone',
  },
  shortcuts: {
    title: 'Keyboard shortcuts',
    intro: 'They work anywhere in the meeting except while you type, and not while your keys go to a shared screen you control.',
    mute: 'Mute or unmute your microphone',
    chat: 'Show or hide the chat',
    hand: 'Raise or lower your hand',
    fullscreen: 'Shared screen on the whole screen (and back)',
    help: 'Show these shortcuts',
    close: 'Close',
    noAudio: 'Join the audio first to mute or unmute',
    noHand: 'Raising a hand is not available now',
    noShare: 'Nobody is sharing a screen to show full screen',
  },
};

/** The shape every translation follows (all strings, any may be missing). */
export type Messages = typeof en;
export type PartialMessages = { [K in keyof Messages]?: Partial<Messages[K]> };
