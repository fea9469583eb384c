// Multiple-choice evaluation: option parsing, scoring by letter or text, task grouping and
// baselines; then an end-to-end eval on the tiny fixture model (reduced Qwen3 tokenizer,
// generated tones) through evaluate() and through `mufun eval`.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evalCommand } from '../src/cli/commands/eval.js';
import {
  type EvalReport, type SampleResult, assignTasks, evaluate, formatReport, loadEvalSet, parseOptions, scoreAnswer, summarize, taskFromId,
} from '../src/model/eval.js';
import { createServices } from '../src/main/services.js';
import { MufunModel } from '../src/model/mufun.js';
import { dispatch } from '../src/shared/dispatch.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { tinyChatModel, toneWav } from './helpers/chat-model.js';

describe('parseOptions', () => {
  it('reads MuFun\'s "(choose from: A. …, B. …)" list, the last option cut at the closing parenthesis', () => {
    expect(parseOptions('<audio>\nWhat genre is this? (choose from: A. blues, B. classical, C. country, D. hip hop.)')).toEqual([
      { letter: 'A', text: 'blues' }, { letter: 'B', text: 'classical' }, { letter: 'C', text: 'country' }, { letter: 'D', text: 'hip hop' },
    ]);
  });

  it('reads options one per line, with ")" or "(X)" markers, parentheses inside options, "or"/"and" before the last', () => {
    expect(parseOptions('Which instrument?\nA. piano\nB. electric guitar (distorted)\nC) violin\nD. drums\nAnswer with the letter.').map((o) => o.text))
      .toEqual(['piano', 'electric guitar (distorted)', 'violin', 'drums']);
    expect(parseOptions('Key? (A) C major (B) A minor (C) G major')).toEqual([
      { letter: 'A', text: 'C major' }, { letter: 'B', text: 'A minor' }, { letter: 'C', text: 'G major' },
    ]);
    expect(parseOptions('Tempo? Options: A. slow, B. medium, or C. fast').map((o) => o.text)).toEqual(['slow', 'medium', 'fast']);
    expect(parseOptions('Mood? (choose from: A. happy, B. sad, and C. calm)').map((o) => o.text)).toEqual(['happy', 'sad', 'calm']);
  });

  it('reads a bare list after "choose … from:" (MuFun README\'s GTZAN prompt) without letters', () => {
    const o = parseOptions('<audio>\nWhat category of music does this track fall under? (choose the genre from: blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, and rock.)');
    expect(o.map((x) => x.text)).toEqual(['blues', 'classical', 'country', 'disco', 'hiphop', 'jazz', 'metal', 'pop', 'reggae', 'rock']);
    expect(o.every((x) => x.letter === '')).toBe(true);
  });

  it('finds no options in an open question, and ignores letters that do not form A, B, …', () => {
    expect(parseOptions('Describe this song.')).toEqual([]);
    expect(parseOptions('Is this in A. or not?')).toEqual([]);
  });
});

describe('scoreAnswer', () => {
  const opts = parseOptions('Genre? (choose from: A. blues, B. classical, C. country, D. hip hop)');
  const cases: [string, string, boolean][] = [
    ['B', 'B. classical', true],
    ['b', 'B. classical', true],
    ['B.', 'B. classical', true],
    ['(B)', 'B. classical', true],
    [' B.  Classical ', 'B. classical', true],
    ['classical', 'B. classical', true],
    ['CLASSICAL.', 'B', true],
    ['B. classical', 'classical', true],
    ['The answer is B.', 'B. classical', true],
    ['It sounds like hip hop.', 'D. hip hop', true],
    ['A', 'B. classical', false],
    ['A. blues', 'B. classical', false],
    ['blues', 'B. classical', false],
    ['', 'B. classical', false],
    // label first, then its letter: both must name the answer
    ['classical (B)', 'B. classical', true],
    ['Hip hop (D).', 'D. hip hop', true],
    ['classical (B)', 'classical (B)', true],
    ['classical (A)', 'B. classical', false],
    ['blues (B)', 'B. classical', false],
    ['A. blues (B)', 'B. classical', false],
  ];
  it.each(cases)('%j against %j → %s', (pred, ref, ok) => {
    expect(scoreAnswer(pred, ref, opts).correct).toBe(ok);
  });

  it('names the predicted and expected options; an unmatched prediction is wrong with predicted null', () => {
    expect(scoreAnswer('b', 'B. classical', opts)).toEqual({ correct: true, predicted: 'B', expected: 'B', label: 'classical' });
    expect(scoreAnswer('A guitar solo', 'B. classical', opts)).toMatchObject({ correct: false, predicted: null });
  });

  it('does not read an article "A" as option A, and prefers the longest option text a sentence names', () => {
    const o = parseOptions('Style? (choose from: A. rock, B. hard rock, C. jazz)');
    expect(scoreAnswer('A hard rock track', 'B', o).correct).toBe(true);
    expect(scoreAnswer('A rock song', 'A. rock', o).correct).toBe(true);
  });

  it('scores bare lists by text, and open questions by normalized text or MuFun\'s "after the last \'. \'" rule', () => {
    const bare = parseOptions('(choose the genre from: blues, classical, rock)');
    expect(scoreAnswer('Rock', 'rock', bare).correct).toBe(true);
    expect(scoreAnswer('jazz', 'rock', bare).correct).toBe(false);
    expect(scoreAnswer('A happy song', 'a happy song.', []).correct).toBe(true);
    expect(scoreAnswer('blues', 'B. blues', []).correct).toBe(true);
  });
});

describe('tasks and baselines', () => {
  it('takes the task field, else an id prefix that groups samples, else "all"', () => {
    expect(taskFromId('genre_0012')).toBe('genre');
    expect(taskFromId('mucue-key-7')).toBe('mucue-key');
    expect(taskFromId('LCeUo2tfY4LFpc5r3jiZid')).toBeNull();
    expect(assignTasks([{ id: 'x1', task: 'mood' }, { id: 'tempo_1' }, { id: 'tempo_2' }])).toEqual(['mood', 'tempo', 'tempo']);
    expect(assignTasks([{ id: 'aX9' }, { id: 'q_1' }])).toEqual(['all', 'all']); // no prefix groups two samples
  });

  it('reports counts, accuracy, chance as the mean of 1/options and the majority class by option text', () => {
    const r = (task: string, label: string, options: number, correct: boolean, predicted: string | null = 'A'): SampleResult =>
      ({ id: '', task, question: '', reference: label, prediction: '', options, correct, predicted, expected: '', label });
    const s = summarize([r('genre', 'blues', 4, true), r('genre', 'blues', 4, false, null), r('genre', 'rock', 2, true), r('key', 'c major', 0, false)]);
    expect(s.tasks.map((t) => t.task)).toEqual(['genre', 'key']);
    const g = s.tasks[0];
    expect(g).toMatchObject({ samples: 3, correct: 2, unmatched: 1, withoutOptions: 0, majority: { answer: 'blues', count: 2 } });
    expect(g.accuracy).toBeCloseTo(2 / 3, 12);
    expect(g.chance).toBeCloseTo((1 / 4 + 1 / 4 + 1 / 2) / 3, 12);
    expect(s.tasks[1]).toMatchObject({ chance: null, withoutOptions: 1 });
    expect(s.overall).toMatchObject({ task: 'overall', samples: 4, correct: 2 });
    const table = formatReport(s);
    expect(table.split('\n')[0]).toMatch(/^task\s+n\s+correct\s+accuracy\s+chance\s+majority/);
    expect(table).toContain('66.7%');
    expect(table).toMatch(/overall\s+4\s+2\s+50\.0%/);
  });
});

async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await evalCommand().exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out.join('\n');
}

describe('evaluate on the tiny model', () => {
  let dir: string;
  let model: MufunModel;
  let tokenizer: Tokenizer;
  let data: string;
  let root: string;
  let report: EvalReport;
  const q = (v: string) => ({ from: 'human', value: v });
  const a = (v: string) => ({ from: 'gpt', value: v });

  beforeAll(async () => {
    dir = tinyChatModel();
    model = MufunModel.load(dir, { noCache: true, threads: 2 });
    tokenizer = Tokenizer.fromDir(dir);
    const tone = toneWav(2);
    root = dirname(tone);
    const f = basename(tone);
    const samples = [
      { id: 's1', task: 'genre', audio: f, conversations: [q('<audio>\nGenre? (choose from: A. blues, B. rock, C. jazz, D. pop)'), a('A. blues')] },
      { id: 's2', task: 'genre', audio: f, conversations: [q('<audio>\nGenre? (choose from: A. rock, B. blues, C. jazz, D. pop)'), a('B. blues')] },
      { id: 's3', task: 'genre', audio: f, time: [0, 1.5], conversations: [q('<audio>\nGenre? (choose from: A. rock, B. blues)'), a('A. rock')] },
      { id: 'tempo_0001', audio: f, conversations: [q('<audio>\nTempo? (choose from: A. slow, B. fast)'), a('B')] },
      { id: 'tempo_0002', audio: f, conversations: [q('<audio>\nWhat is this?'), a('a tone'), q('Tempo? (choose from: A. slow, B. medium, C. fast)'), a('slow')] },
      { id: 'broken', audio: 'missing.wav', conversations: [q('<audio>\nTempo?'), a('slow')] },
    ];
    data = join(mkdtempSync(join(tmpdir(), 'eval-')), 'test.json');
    writeFileSync(data, JSON.stringify(samples));
    const { samples: loaded, problems } = loadEvalSet(data, { audioRoot: root, onBadSample: 'skip' });
    expect(problems.map((p) => p.id)).toEqual(['broken']);
    report = await evaluate(model, tokenizer, loaded, { maxNewTokens: 6 });
  });
  afterAll(() => model.release());

  it('answers every sample once and scores each answer as scoreAnswer does', () => {
    expect(report.cancelled).toBe(false);
    expect(report.results.map((r) => r.id)).toEqual(['s1', 's2', 's3', 'tempo_0001', 'tempo_0002']);
    for (const r of report.results) {
      expect(typeof r.prediction).toBe('string');
      expect(r.correct).toBe(scoreAnswer(r.prediction, r.reference, parseOptions(r.question)).correct);
    }
    expect(report.results[4].question).toContain('Tempo?'); // the last question of a two-round sample
  });

  it('reports per task counts, chance and the majority-class baseline', () => {
    expect(report.tasks.map((t) => [t.task, t.samples])).toEqual([['genre', 3], ['tempo', 2]]);
    const genre = report.tasks[0];
    expect(genre.correct).toBe(report.results.slice(0, 3).filter((r) => r.correct).length);
    expect(genre.chance).toBeCloseTo((1 / 4 + 1 / 4 + 1 / 2) / 3, 12);
    expect(genre.majority).toEqual({ answer: 'blues', count: 2, accuracy: 2 / 3 });
    const tempo = report.tasks[1];
    expect(tempo.chance).toBeCloseTo((1 / 2 + 1 / 3) / 2, 12);
    expect(tempo.majority.count).toBe(1);
    expect(report.overall).toMatchObject({ samples: 5, correct: report.results.filter((r) => r.correct).length });
  });

  it('honours limit', async () => {
    const { samples } = loadEvalSet(data, { audioRoot: root, onBadSample: 'skip' });
    const r = await evaluate(model, tokenizer, samples, { maxNewTokens: 2, limit: 2 });
    expect(r.results.map((x) => x.id)).toEqual(['s1', 's2']);
    expect(r.overall.samples).toBe(2);
  });

  it('mufun eval --json prints the same report; the table lists each task; bad samples fail with --bad-samples fail', async () => {
    const args = ['--model', dir, '--data', data, '--audio-folder', root, '--max-new-tokens', '6', '--threads', '2'];
    const j = JSON.parse(await cli(...args, '--json'));
    expect(j.skipped).toEqual([{ id: 'broken', message: expect.stringContaining('missing.wav') }]);
    expect(j.tasks).toEqual(report.tasks);
    expect(j.overall).toEqual(report.overall);
    expect(j.results.map((r: SampleResult) => r.prediction)).toEqual(report.results.map((r) => r.prediction));
    const table = await cli(...args, '--limit', '4');
    expect(table).toMatch(/^task\s+n\s+correct/);
    expect(table).toMatch(/\ngenre\s+3\s/);
    expect(table).toMatch(/\ntempo\s+1\s/);
    await expect(cli(...args, '--bad-samples', 'fail')).rejects.toThrow(/broken: audio file missing.wav not found/);
  });

  it("mufun eval --dataset scores a studio dataset's split as the same samples in a file", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'eval-db-')), 'catalog.sqlite');
    const studio = createServices({ appVersion: 'test', dbPath: db, chatWorkerUrl: new URL('../src/main/chat/worker.ts', import.meta.url) });
    const good = join(dirname(data), 'good.json');
    writeFileSync(good, JSON.stringify((JSON.parse(readFileSync(data, 'utf8')) as { id: string }[]).filter((x) => x.id !== 'broken')));
    const r = await dispatch(studio.handlers, 'datasets.import', { path: good, audioRoot: root, name: 'Tones', split: 'eval' });
    expect(r.ok).toBe(true);
    await studio.close();
    const common = ['--model', dir, '--max-new-tokens', '6', '--threads', '2', '--json'];
    const j = JSON.parse(await cli(...common, '--dataset', 'Tones', '--db', db));
    expect(j.results.map((x: SampleResult) => x.id)).toEqual(report.results.map((x) => x.id));
    expect(j.results.map((x: SampleResult) => x.prediction)).toEqual(report.results.map((x) => x.prediction));
    expect(j.overall).toEqual(report.overall);
    await expect(cli(...common, '--dataset', 'Tones', '--split', 'train', '--db', db)).rejects.toThrow('dataset "Tones" has no train items to export');
    await expect(cli(...common, '--dataset', 'Nope', '--db', db)).rejects.toThrow('no dataset "Nope" (there are: 1 Tones)');
    await expect(cli(...common)).rejects.toThrow('give --data FILE (a MuFun JSON file) or --dataset NAME (a studio dataset), one of them');
  });
});
