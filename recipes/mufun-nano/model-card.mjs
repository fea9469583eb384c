// Writes resources/mufun-nano/README.md from the test-set evaluation (mufun eval --json) and
// the dataset description: per-task accuracy next to chance and the majority-class baseline,
// and (given tag-train's metrics) what the tower alone hears: its tagging heads' val accuracy;
// and (given a markdown file) the maintainers' status note, after the model's description; and
// (given `npm run bench -- real`'s output) how it answers about real recordings; then, optionally,
// where the training curves are, when not all in training-curves.svg.
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { namesRightLabel } from './answers.mjs';

const USAGE = 'model-card.mjs --eval EVAL.json --dataset DATASET.json --out MODEL/README.md [--training TEXT] [--tagging METRICS.jsonl] [--status STATUS.md] [--real REAL.json] [--curves TEXT]';
const text = { type: 'string' };
const { values: args } = parseArgs({ options: { eval: text, dataset: text, out: text, training: text, tagging: text, status: text, real: text, curves: text } });
for (const need of ['eval', 'dataset', 'out']) {
  if (!args[need]) {
    console.error(`model-card: --${need} is required (usage: ${USAGE})`);
    process.exit(2);
  }
}
const { eval: evalJson, dataset: datasetJson, out, training: stepsInfo, tagging: tagMetrics, status: statusMd, real: realJson, curves: curvesInfo } = args;
// What the card describes is the model in the card's own folder: its size from its weights.
const weights = join(dirname(out), 'model.safetensors');
const header = (() => {
  const fd = openSync(weights, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const json = Buffer.alloc(Number(len.readBigUInt64LE()));
    readSync(fd, json, 0, json.length, 8);
    return JSON.parse(json.toString('utf8'));
  } finally {
    closeSync(fd);
  }
})();
const parameters = Object.entries(header).filter(([k]) => k !== '__metadata__').reduce((n, [, t]) => n + t.shape.reduce((a, b) => a * b, 1), 0);
const size = `${(parameters / 1e6).toFixed(1)} M parameters, ${Math.round(statSync(weights).size / 1e6)} MB`;
const config = JSON.parse(readFileSync(join(dirname(out), 'config.json'), 'utf8'));
const tower = config.vision_config;
const status = statusMd ? `\n${readFileSync(statusMd, 'utf8').trim()}\n` : '';
const report = JSON.parse(readFileSync(evalJson, 'utf8'));
const dataset = JSON.parse(readFileSync(datasetJson, 'utf8'));
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);
const tagged = tagMetrics
  ? readFileSync(tagMetrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'eval').at(-1)?.evalTasks ?? {}
  : null;
// How often the answers name the right label, whatever their letter: what the model heard.
const named = (task) => {
  const rs = report.results.filter((r) => task === 'overall' || r.task === task);
  return rs.length ? rs.filter(namesRightLabel).length / rs.length : null;
};
const rows = [...report.tasks, report.overall].map((t) =>
  `| ${t.task} | ${t.samples} | **${pct(t.accuracy)}** | ${pct(named(t.task))} | ${pct(t.chance)} | ${pct(t.majority.accuracy)} (${t.majority.answer}) |` +
  (tagged ? ` ${pct(tagged[t.task])} |` : ''));
const goals = { instrument: 0.9, mode: 0.9, tempo: 0.8, meter: 0.8 };
const goalLines = Object.entries(goals).map(([task, g]) => {
  const t = report.tasks.find((x) => x.task === task);
  return `- ${task}: ${pct(t?.accuracy)} (goal ${pct(g)}) — ${t && t.accuracy >= g ? 'met' : 'not met'}`;
});
// Real recordings: no labels, so the format of the answers and what it picks, next to the same
// kind of questions on synthetic test clips.
const realSection = (() => {
  if (!realJson) return '';
  const r = JSON.parse(readFileSync(realJson, 'utf8'));
  const frac = (a, b) => `${a}/${b}`;
  const rows = Object.entries(r.real).filter(([task]) => task !== 'caption').map(([task, t]) => {
    const syn = r.synthetic?.tasks[task];
    const picks = Object.entries(t.picked).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
    const f = t.forms;
    return `| ${task} | ${frac(t.picksAnOption, t.asked)} | ${frac(f.exact, t.asked)} | ${f.mismatch} | ${f.unoffered} | ${f.malformed} | ${syn ? frac(syn.forms.exact, syn.asked) : '—'} | ${picks} |`;
  });
  const total = (tasks) => Object.entries(tasks).filter(([task]) => task !== 'caption')
    .reduce(([e, n, m], [, t]) => [e + t.forms.exact, n + t.asked, m + t.forms.malformed], [0, 0, 0]);
  const [realExact, realAsked, realMalformed] = total(r.real);
  const [synExact, synAsked] = r.synthetic ? total(r.synthetic.tasks) : [0, 0];
  const names = r.tracks.map((t) => t.file.split('/').at(-1));
  const captions = r.tracks.slice(0, 3).map((t) => `  - ${t.file.split('/').at(-1)}: "${t.answers.find((a) => a.task === 'caption').answer}"`);
  const whole = r.tracks.find((t) => t.wholeTrack.error);
  return `
## On real recordings

Asked about ${r.recordings} tracks of game music from Debian's packages (extremetuxracer-data, frozen-bubble-data:
produced mixes of several instruments, none rendered by FluidSynth; ${names.join(', ')}), a ${r.clipSeconds} s clip
from the middle of each, one multiple-choice question per task in the training set's words, its options drawn at
random (the right answer need not be among them). \`npm run bench -- real --synthetic DATA\` measures it; the same
kind of questions on ${r.synthetic?.clips ?? 0} synthetic test clips, in the same run, are the reference.

| task | answers that pick an option | exactly an offered option | another option's letter | a label not offered | malformed | exactly, synthetic clips | what it picked |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Over all tasks: ${realExact}/${realAsked} answers exactly in a trained format (an option's text, "brass", or with its letter, "brass (B)" or "B. brass", B being brass) on real recordings${r.synthetic ? `, ${synExact}/${synAsked} on synthetic clips asked the same way` : ''}; ${realMalformed} malformed.

"Another option's letter": the label of one option with the letter of another ("A. minor" when A is major),
the letter binding's known weakness; "a label not offered": what it hears when the options do not hold it, under
some letter or alone ("piano" when piano is not offered); "picks an option" counts what \`mufun eval\` would score. Captions keep the trained
sentence shape:
${captions.join('\n')}
${whole ? `
A whole track is longer than the model's context (${r.clipSeconds} s of audio take ${r.tokensPerClip} of its ${r.maxContext} positions): it
answers nothing and says so, e.g. "${whole.wholeTrack.error}". The studio's waveform selection, or
\`mufun chat --seg\`, picks the part to ask about.
` : ''}`;
})();
const md = `# MuFun-nano

MuFun's architecture (Whisper-style encoder → 4-layer feature concat + pooling → blp_4i_2x connector →
Qwen3 decoder) at ${size}, trained from scratch by MuFun Studio on synthetic music, so that
the studio is useful with no download. Reproduce it with \`bash recipes/mufun-nano/recipe.sh\`.

- Audio: ${(tower.max_source_positions * 2 * 160) / 16000} s clips (max_source_positions ${tower.max_source_positions}), ${tower.num_mel_bins} mel bins, a tower of ${tower.encoder_layers} layers ${tower.d_model} wide, ${tower.max_source_positions / config.audio_pool_stride} audio tokens per clip.
- Text: Qwen3's byte-level BPE cut to 2048 ids (any text still tokenizes); template qwen2_instruct.
- Training: ${stepsInfo ?? 'see the recipe'}. Curves: ${curvesInfo ?? '\`training-curves.svg\`'}.
- Data: ${dataset.name}; clips ${JSON.stringify(dataset.counts?.clips ?? {})}, samples ${JSON.stringify(dataset.counts?.samples ?? {})} (train/val/test clips never overlap)${dataset.settings?.bindingQuestionsTrain ? `, plus ${dataset.settings.bindingQuestionsTrain} text-only binding questions` : ''}.
${status}
## Test accuracy (held-out synthetic clips, multiple choice, greedy decoding)

| task | samples | accuracy | names the right label | chance | majority class |${tagged ? ' tower alone (tagging head, val) |' : ''}
|---|---|---|---|---|---|${tagged ? '---|' : ''}
${rows.join('\n')}

"Accuracy" is what \`mufun eval\` scores: the option the answer picks, by its text ("brass") or its letter
("B. brass"; "brass (B)" only when the two are the same option). "Names the right label": answers whose
label is right, whatever letter they give ("C. brass" when brass is B).
${tagged ? '\n"Tower alone": the tagging stage\'s linear head on the mean audio token, on the validation clips: what\nthe audio tokens carry before the LLM learns to read them (all labels of a clip, not multiple choice).\n' : ''}

Goals of the project for this model:
${goalLines.join('\n')}

## What it can and cannot do
- It answers MuCUE-style multiple-choice questions about the properties it was trained on
  (instrument family, tempo class, major/minor, key, meter, held-chord quality, drums, melodic
  direction, loudness change), answering with the option's text ("brass"), which MuCUE's scoring
  takes as it takes the letter, and major/minor through the key it hears ("In D major, so
  major."). MuFun's own answers, "B. brass", give the letter too: a lookup
  this small model gets wrong far more often than the label (see Status). Short open questions
  and captions about the same properties get a sentence.
- It has heard only General MIDI instruments rendered by FluidSynth, one instrument family at a
  time, in 10 s clips. On real recordings (mixes, voices, production effects) its answers keep
  their trained shape (an option's text, a caption sentence: measured below) but are guesses
  shaped by the synthetic data; it knows nothing of genres, lyrics, artists or moods, and it
  cannot hold a general conversation.
- Longer audio is cut into 10 s clips as MuFun does with 30 s ones, and a question sees them in
  order, which it was never trained on; audio longer than its context holds (about 30 s) is
  refused with what fits, so a whole song is asked about a segment at a time.
${realSection}`;
writeFileSync(out, md);
console.log(`model card: ${out}`);
