/**
 * Guard: no user-visible English inline in the web client. Walks every .tsx under src with the
 * TypeScript compiler and fails on JSX text, on string values of props a user sees or hears
 * (aria-label, title, placeholder, alt…), and on literal messages passed to the notifier, unless the
 * text is in the small allowlist below. Text goes through i18n/en.ts + de.ts and `t()` instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

/** Props whose value is shown or read out to the user. */
const TEXT_PROPS = new Set(['aria-label', 'aria-description', 'aria-roledescription', 'aria-valuetext', 'title', 'placeholder', 'alt', 'label']);

/** Text that is the same in every language: symbols, the product's name. Keep it small. */
export const ALLOWED = new Set(['·', '×', '◆', '?', '…', '—', '–', '/', ':', '▾', '⋯', 'Baton', '1:1', '@']);

/** Elements whose content is code or a command, the same in every language. */
const CODE_TAGS = new Set(['code', 'pre', 'kbd', 'samp']);

/** Test pages (never shipped to users) may say what they like. */
const SKIP_DIRS = new Set(['testing']);

export interface Finding {
  file: string;
  line: number;
  text: string;
  where: string;
}

function tsxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...tsxFiles(path.join(dir, e.name)));
    } else if (e.name.endsWith('.tsx')) out.push(path.join(dir, e.name));
  }
  return out;
}

/** Text that would be English to a reader: has a letter and is not allowlisted. */
function needsTranslation(text: string): boolean {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 0 && !ALLOWED.has(s) && /\p{L}/u.test(s);
}

/** The string literals an expression can evaluate to as it is rendered (not those it merely compares with). */
function renderedStrings(e: ts.Expression): ts.Node[] {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e];
  if (ts.isTemplateExpression(e)) return [e.head, ...e.templateSpans.map((s) => s.literal)];
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e)) return renderedStrings(e.expression);
  if (ts.isConditionalExpression(e)) return [...renderedStrings(e.whenTrue), ...renderedStrings(e.whenFalse)];
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken) return renderedStrings(e.right);
    if (op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.PlusToken) {
      return [...renderedStrings(e.left), ...renderedStrings(e.right)];
    }
  }
  return [];
}

function literalText(n: ts.Node): string {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) return n.text;
  if (ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) return n.text;
  return n.getText();
}

export function findUntranslated(file: string, source: string): Finding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: Finding[] = [];
  const report = (n: ts.Node, text: string, where: string) => {
    if (!needsTranslation(text)) return;
    const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    found.push({ file: path.relative(SRC, file), line, text: text.replace(/\s+/g, ' ').trim(), where });
  };
  const visit = (n: ts.Node) => {
    if (ts.isJsxElement(n) && CODE_TAGS.has(n.openingElement.tagName.getText(sf))) return;
    if (ts.isJsxText(n)) report(n, n.text, 'JSX text');
    else if (ts.isJsxExpression(n) && n.expression && !ts.isJsxAttribute(n.parent)) {
      for (const s of renderedStrings(n.expression)) report(s, literalText(s), 'JSX expression');
    } else if (ts.isJsxAttribute(n)) {
      const name = n.name.getText(sf);
      if (TEXT_PROPS.has(name) && n.initializer) {
        const strings = ts.isStringLiteral(n.initializer)
          ? [n.initializer]
          : ts.isJsxExpression(n.initializer) && n.initializer.expression
            ? renderedStrings(n.initializer.expression)
            : [];
        for (const s of strings) report(s, literalText(s), `${name}=`);
      }
    } else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'notify') {
      // notifier.notify(kind, text): the kind is a code, the text is read by the user.
      for (const a of n.arguments.slice(1)) for (const s of renderedStrings(a)) report(s, literalText(s), 'notify()');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('web client text goes through i18n', () => {
  it('the scanner finds inline English (JSX text, text props, ternaries, notifications) and passes t() and codes', () => {
    const src = `
      export const A = ({ t, ok, n }) => (
        <div title="Shown on hover" className="plain-class" data-testid="x">
          Hello there
          <span aria-label={ok ? 'Yes' : t('no')}>{n > 1 ? \`\${n} items\` : '·'}</span>
          {ok === 'lobby' && 'Waiting'}
          <input placeholder={t('key')} type="text" />
          {t('fine', { name: 'Bob' })} ×
          <code>npx {'--token -'}</code>
        </div>
      );
      notifier.notify('info', 'Copied');`;
    const texts = findUntranslated('/x/A.tsx', src).map((f) => `${f.where} ${f.text}`);
    expect(texts).toEqual(['title= Shown on hover', 'JSX text Hello there', 'aria-label= Yes', 'JSX expression items', 'JSX expression Waiting', 'notify() Copied']);
  });

  it('no .tsx file under packages/web/src has untranslated user-visible text', () => {
    const all = tsxFiles(SRC).flatMap((f) => findUntranslated(f, readFileSync(f, 'utf8')));
    // A failure names each place: move the text to i18n/en.ts (and de.ts) and use t().
    const places = all.map((f) => `${f.file}:${f.line} ${f.where} ${JSON.stringify(f.text)}`);
    if (places.length > 0) console.error(`Untranslated text (${places.length}):\n${places.join('\n')}`);
    expect(places).toEqual([]);
  });
});
