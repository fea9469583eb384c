// The answer's pieces on their way to the page: first at once, then at most one event per interval,
// nothing lost, nothing after the flush that precedes the answer's end.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pieceStream } from '../src/main/chat/pieces.js';

describe('pieceStream', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('sends the first piece at once and the pieces of one interval together', () => {
    const sent: string[] = [];
    const s = pieceStream((t) => sent.push(t), 30);
    s.push('The');
    expect(sent).toEqual(['The']);
    for (const p of [' melody', ' is', ' played']) s.push(p);
    expect(sent).toEqual(['The']);
    vi.advanceTimersByTime(30);
    expect(sent).toEqual(['The', ' melody is played']);
    vi.advanceTimersByTime(30); // a quiet interval: nothing to send, and the next piece is not held back
    s.push(' by');
    expect(sent).toEqual(['The', ' melody is played', ' by']);
  });

  it('a thousand tokens in 100 ms make a handful of events with all the text', () => {
    const sent: string[] = [];
    const s = pieceStream((t) => sent.push(t), 30);
    for (let i = 0; i < 1000; i++) {
      s.push(`${i % 10}`);
      if (i % 10 === 9) vi.advanceTimersByTime(1);
    }
    s.flush();
    expect(sent.length).toBeLessThanOrEqual(6);
    expect(sent.join('')).toBe(Array.from({ length: 1000 }, (_, i) => `${i % 10}`).join(''));
  });

  it('flush sends what is held now and leaves no timer to send it twice', () => {
    const sent: string[] = [];
    const s = pieceStream((t) => sent.push(t), 30);
    s.push('a');
    s.push('b');
    s.flush();
    expect(sent).toEqual(['a', 'b']);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
