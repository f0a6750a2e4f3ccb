import { Fragment, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

const MARK = '\u0001';

/**
 * A translated sentence with React nodes in it: `nodes` fill the {{placeholders}} of the same name
 * (a name in <strong>, a link), `values` the plain ones (count for plurals). The nodes never pass
 * through i18next or any HTML parsing, so remote text in them stays React text.
 */
export function Rich({ k, nodes, values }: { k: string; nodes: Record<string, ReactNode>; values?: Record<string, unknown> }) {
  const { t } = useTranslation();
  const marks = Object.fromEntries(Object.keys(nodes).map((name) => [name, `${MARK}${name}${MARK}`]));
  const text = t(k, { ...values, ...marks }) as string;
  const parts = text.split(MARK);
  // Odd indices are the names between two marks.
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>{i % 2 === 1 && part in nodes ? nodes[part] : part}</Fragment>
      ))}
    </>
  );
}
