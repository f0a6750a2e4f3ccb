/**
 * Data collaboration on the conference socket: polls and questions (Q&A). The data-collaboration
 * conferencing server (server/src/data) keeps them per conference, persisted with the meeting; the
 * Focus authorizes every command. See docs/protocol.md, "Polls and Q&A".
 */
import { z } from 'zod';
import { safeText } from './text.js';

export const MAX_POLL_QUESTION = 300;
export const MAX_POLL_OPTION = 120;
export const MIN_POLL_OPTIONS = 2;
/** A poll with more options than this is refused: nobody reads 10,000 choices, and each is fanned out. */
export const MAX_POLL_OPTIONS = 12;
export const MAX_QUESTION_LENGTH = 500;
/** Per conference, so that one participant cannot grow the server's memory without bound. */
export const MAX_POLLS_PER_CONFERENCE = 100;
export const MAX_QUESTIONS_PER_CONFERENCE = 500;

const Id = z.string().min(1).max(64);

export const PollQuestionText = safeText(
  z.string().trim().min(1, 'the question is empty').max(MAX_POLL_QUESTION, `the question is longer than ${MAX_POLL_QUESTION} characters`),
  'question',
);
export const PollOptionText = safeText(
  z.string().trim().min(1, 'an option is empty').max(MAX_POLL_OPTION, `an option is longer than ${MAX_POLL_OPTION} characters`),
  'option',
);
export const QuestionText = safeText(
  z.string().trim().min(1, 'the question is empty').max(MAX_QUESTION_LENGTH, `the question is longer than ${MAX_QUESTION_LENGTH} characters`),
  'question',
  { multiline: true },
);

export const PollDraft = z
  .object({
    question: PollQuestionText,
    options: z
      .array(PollOptionText)
      .min(MIN_POLL_OPTIONS, `a poll needs at least ${MIN_POLL_OPTIONS} options`)
      .max(MAX_POLL_OPTIONS, `a poll has at most ${MAX_POLL_OPTIONS} options`),
    /** Several options may be chosen. */
    multiple: z.boolean().default(false),
    /** Nobody, not even the poll's creator, sees who chose what. */
    anonymous: z.boolean().default(true),
  })
  .strict()
  .refine((d) => new Set(d.options.map((o) => o.toLowerCase())).size === d.options.length, { message: 'two options are the same', path: ['options'] });
export type PollDraft = z.infer<typeof PollDraft>;

/**
 * open: votes are taken; closed: no more votes, results only to those who manage polls;
 * published: closed, and everyone sees the results.
 */
export const PollState = z.enum(['open', 'closed', 'published']);
export type PollState = z.infer<typeof PollState>;

export const Poll = z.object({
  id: Id,
  question: z.string(),
  options: z.array(z.string()),
  multiple: z.boolean(),
  anonymous: z.boolean(),
  state: PollState,
  createdBy: z.object({ name: z.string(), user: z.string().nullable() }),
  at: z.string(),
  /** How many people voted. */
  voters: z.number().int(),
  /**
   * Votes per option, index for index: sent to whoever manages polls while it runs, and to everyone
   * once published; absent otherwise (voters then see only their own choice).
   */
  results: z.array(z.number().int()).optional(),
  /** Who chose each option, for a named poll, to those who see the results. */
  names: z.array(z.array(z.string())).optional(),
  /** The recipient's own choice (indexes), if it voted. */
  mine: z.array(z.number().int()).optional(),
});
export type Poll = z.infer<typeof Poll>;

export const QuestionState = z.enum(['open', 'answered', 'dismissed']);
export type QuestionState = z.infer<typeof QuestionState>;

export const Question = z.object({
  id: Id,
  text: z.string(),
  /** The asker, or null when asked anonymously (the server keeps who asked; nobody is shown it). */
  author: z.object({ name: z.string(), user: z.string().nullable() }).nullable(),
  state: QuestionState,
  votes: z.number().int(),
  /** The recipient voted for it. */
  voted: z.boolean(),
  /** The recipient asked it (so it can see its own anonymous question as its own). */
  mine: z.boolean(),
  at: z.string(),
});
export type Question = z.infer<typeof Question>;

/** Who may share files with the meeting: anyone in it, presenters and organizers, or nobody. */
export const FilesPolicy = z.enum(['anyone', 'presenters', 'off']);
export type FilesPolicy = z.infer<typeof FilesPolicy>;

/** The longest file name kept (longer ones are shortened, keeping the extension). */
export const MAX_FILE_NAME = 200;
/** Files a meeting holds at most (deleted ones do not count). */
export const MAX_FILES_PER_CONFERENCE = 500;

/**
 * A file name made safe to store, show and offer for download: the last path component only, no
 * control or invisible characters, no leading dots, at most MAX_FILE_NAME characters (keeping the
 * extension); 'file' when nothing is left.
 */
export function safeFileName(raw: string): string {
  let name = raw.split(/[\\/]/).pop() ?? '';
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu, '').replace(/[<>:"|?*]/g, '_');
  name = name.trim().replace(/^\.+/, '').trim();
  if (name.length > MAX_FILE_NAME) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = name.slice(0, MAX_FILE_NAME - ext.length) + ext;
  }
  return name || 'file';
}

/** Who may create polls (and close and publish them): the organizer, presenters and organizers, or anyone. */
export const PollsPolicy = z.enum(['organizer', 'presenters', 'anyone']);
export type PollsPolicy = z.infer<typeof PollsPolicy>;

/** Who may ask questions: anyone in the meeting, signed-in participants, or nobody (Q&A off). */
export const QaPolicy = z.enum(['anyone', 'signed-in', 'off']);
export type QaPolicy = z.infer<typeof QaPolicy>;

const STATE_ORDER: Record<QuestionState, number> = { open: 0, answered: 1, dismissed: 2 };

/** The order every client shows questions in: open ones first by votes (then oldest first), then answered, then dismissed. */
export function questionRank(a: Question, b: Question): number {
  return STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.votes - a.votes || a.at.localeCompare(b.at) || a.id.localeCompare(b.id);
}
