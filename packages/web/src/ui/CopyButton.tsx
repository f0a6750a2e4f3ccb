import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Copies text to the clipboard, with a fallback for pages where the Clipboard API is unavailable. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

export function CopyButton({ text, label, testId, className }: { text: string; label: string; testId?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const { t } = useTranslation();
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  // Its longest texts size the button (hidden ::before and ::after), so "Copied!" never moves its neighbours.
  return (
    <button
      type="button"
      className={`${className ?? 'secondary'} steady`}
      data-sizer-a={label}
      data-sizer-b={t('copy.failed')}
      data-testid={testId}
      data-copy-text={text}
      onClick={() => void copyText(text).then((ok) => setState(ok ? 'copied' : 'failed'))}
      aria-live="polite"
    >
      <span>{state === 'copied' ? t('copy.copied') : state === 'failed' ? t('copy.failed') : label}</span>
    </button>
  );
}
