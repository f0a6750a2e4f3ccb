/**
 * The phone's on-screen keyboard for a controller. A canvas cannot open a soft keyboard, so a hidden
 * text field takes the focus; what is typed into it (text, including what an input method composed)
 * goes to the host as key presses, and the field is emptied again. Soft keyboards report most keys as
 * 'Unidentified' keydowns, so text is read from input events; named keys (Enter, Backspace, arrows…)
 * that do arrive as keydowns go as they are.
 */
import type { InputCapture } from './InputCapture';

export interface SoftKeyboardOptions {
  /** The hidden field that holds the focus while the soft keyboard is open. */
  element: HTMLTextAreaElement | HTMLInputElement;
  capture: InputCapture;
}

/** Keys with a name (not a character) that a soft or hardware keyboard may send as keydowns. */
const NAMED = /^(Backspace|Delete|Enter|Tab|Escape|Arrow(Up|Down|Left|Right)|Home|End|PageUp|PageDown|Insert|F\d{1,2})$/;

export class SoftKeyboard {
  readonly #el: HTMLTextAreaElement | HTMLInputElement;
  readonly #capture: InputCapture;
  readonly #off: (() => void)[] = [];

  constructor(options: SoftKeyboardOptions) {
    this.#el = options.element;
    this.#capture = options.capture;
    const on = <E extends Event>(type: string, fn: (e: E) => void) => {
      const h = (e: Event) => fn(e as E);
      this.#el.addEventListener(type, h);
      this.#off.push(() => this.#el.removeEventListener(type, h));
    };
    on<KeyboardEvent>('keydown', (e) => {
      if (e.isComposing) return;
      if (NAMED.test(e.key) || (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey)) {
        e.preventDefault(); // nothing lands in the field: the host gets the key
        this.#capture.pressKey(e.key, e.code);
      }
    });
    on<InputEvent>('input', (e) => {
      if (e.isComposing) return;
      if (e.inputType === 'deleteContentBackward') this.#capture.pressKey('Backspace', 'Backspace');
      else if (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph') this.#capture.pressKey('Enter', 'Enter');
      this.#flush();
    });
    on<CompositionEvent>('compositionend', () => this.#flush());
  }

  /** Focus the field: on a phone this opens the soft keyboard (call it from a tap). */
  open(): void {
    this.#el.focus({ preventScroll: true });
  }

  get isOpen(): boolean {
    return document.activeElement === this.#el;
  }

  destroy(): void {
    for (const off of this.#off.splice(0)) off();
    if (this.isOpen) this.#el.blur();
  }

  #flush(): void {
    const text = this.#el.value;
    this.#el.value = '';
    if (text) this.#capture.typeText(text.replace(/\r?\n/g, '\n'));
  }
}
