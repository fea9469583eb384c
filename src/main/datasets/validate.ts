// What keeps an item from being a sample MuFun's loader (src/model/train/data.ts, prepareSample)
// would take: the same rules, said in the studio's words, plus what the catalog knows about the
// audio (missing, unreadable, a segment past the end). An empty list = a valid item.
import type { DatasetTurn } from '../../shared/api-datasets.js';
import { countAudioPlaceholders } from '../../model/template.js';

export interface AudioFacts {
  title: string;
  path: string;
  durationSec: number | null;
  missing: boolean;
  error: string | null;
  start: number | null;
  end: number | null;
}

export function itemProblems(turns: DatasetTurn[], audios: AudioFacts[]): string[] {
  const problems: string[] = [];
  audios.forEach((a, i) => {
    const which = audios.length > 1 ? `audio ${i + 1} (${a.title})` : a.title;
    if (a.missing) problems.push(`${which}: the file ${a.path} is missing (not found by the last scan)`);
    else if (a.error) problems.push(`${which}: the file cannot be read: ${a.error}`);
    if (a.start !== null && a.end !== null) {
      if (!(a.end > a.start) || a.start < 0) problems.push(`${which}: the segment ${a.start}–${a.end} s is empty or negative`);
      else if (a.durationSec !== null && a.start >= a.durationSec) {
        problems.push(`${which}: the segment starts at ${a.start} s, after the end of the track (${a.durationSec.toFixed(2)} s)`);
      }
    }
  });
  if (turns.length === 0) {
    problems.push('no question and answer yet: pick a label or write the turns');
    return problems;
  }
  // MuFun skips a leading turn that is not the human's.
  const conv = turns[0].from === 'human' ? turns : turns.slice(1);
  let alternates = true;
  conv.forEach((t, i) => {
    const want = i % 2 === 0 ? 'human' : 'gpt';
    if (alternates && t.from !== want) {
      problems.push(`turns must alternate question (human) and answer (gpt): turn ${i + 1} is "${t.from}"`);
      alternates = false;
    }
  });
  if (alternates) {
    if (conv.length < 2 || conv.length % 2) problems.push(`question ${Math.ceil(conv.length / 2) || 1} has no answer`);
    conv.forEach((t, i) => {
      if (t.value.trim() === '') problems.push(`${i % 2 === 0 ? 'question' : 'answer'} ${Math.floor(i / 2) + 1} is empty`);
    });
  }
  const markers = conv.reduce((n, t) => n + countAudioPlaceholders(t.value), 0);
  if (markers !== audios.length) {
    problems.push(`${markers} <audio> placeholder${markers === 1 ? '' : 's'} in the questions but ${audios.length} audio${audios.length === 1 ? '' : 's'}`);
  }
  return problems;
}
