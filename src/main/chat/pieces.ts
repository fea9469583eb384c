// An answer's text goes to the page in pieces at most every few milliseconds, not token by
// token: a small model decodes hundreds of tokens a second, and an event (and a render) per
// token can back a busy page up so far that the end of an answer, or a Stop, shows seconds late.

export interface PieceStream {
  /** Text decoded since the last push; the first goes out at once, the rest within `ms`. */
  push(text: string): void;
  /** Sends what is held now (before the answer's end is announced). */
  flush(): void;
}

export function pieceStream(send: (text: string) => void, ms = 30): PieceStream {
  let held = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  const tick = () => {
    timer = null;
    if (!held) return; // quiet for a whole interval: the next piece goes out at once
    const text = held;
    held = '';
    send(text);
    timer = setTimeout(tick, ms);
  };
  return {
    push(text) {
      held += text;
      if (!timer) tick();
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (held) {
        const text = held;
        held = '';
        send(text);
      }
    },
  };
}
