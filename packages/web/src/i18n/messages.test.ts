/**
 * The translations against the English source: German has exactly the keys of English (no missing,
 * no extra), every placeholder ({{name}}) and markup tag (<0>) of a message in both, and plural
 * forms for each plural category of the language.
 */
import { describe, expect, it } from 'vitest';
import { de } from './de';
import { en } from './en';

type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

/** {{placeholders}} and <n>tags</n>, sorted, so that order may differ between languages. */
function tokens(text: string): string[] {
  const placeholders = [...text.matchAll(/\{\{\s*([\w.]+)\s*(?:,[^}]*)?\}\}/g)].map((m) => `{{${m[1]}}}`);
  const tags = [...text.matchAll(/<\/?(\w+)\s*\/?>/g)].map((m) => m[0].replace(/\s/g, ''));
  return [...placeholders, ...tags].sort();
}

const PLURAL = /_(zero|one|two|few|many|other)$/;

const EN = flatten(en as unknown as Tree);
const LANGS: Record<string, Map<string, string>> = { de: flatten(de as unknown as Tree) };

describe.each(Object.entries(LANGS))('%s translation', (lang, messages) => {
  it('has every key of English and no other', () => {
    expect([...EN.keys()].filter((k) => !messages.has(k))).toEqual([]);
    expect([...messages.keys()].filter((k) => !EN.has(k))).toEqual([]);
  });

  it('keeps the placeholders and tags of each English message', () => {
    const differing = [...EN].filter(([k, v]) => messages.has(k) && tokens(messages.get(k)!).join() !== tokens(v).join());
    expect(differing.map(([k, v]) => `${k}: ${tokens(v).join(' ')} vs ${tokens(messages.get(k)!).join(' ')}`)).toEqual([]);
  });

  it('has no empty message', () => {
    expect([...messages].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([]);
  });

  it("gives each plural every form the language's plural rules use", () => {
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    const bases = new Set([...messages.keys()].filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, '')));
    const missing = [...bases].flatMap((b) => categories.filter((c) => !messages.has(`${b}_${c}`)).map((c) => `${b}_${c}`));
    expect(missing).toEqual([]);
  });
});

describe('the scanner of tokens', () => {
  it('sees placeholders and tags in any order', () => {
    expect(tokens('<0>{{subject}}</0> is ready, {{ name }}')).toEqual(tokens('{{name}}: <0>{{subject}}</0>'));
    expect(tokens('Hello {{name}}')).not.toEqual(tokens('Hallo {{nam}}'));
  });
});
