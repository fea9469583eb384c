// grpo.sh's report: the test questions' accuracy before and after GRPO (by letter, by the label
// named, both), and the run's reward and KL curves. Usage: node grpo-summary.mjs OUT
import { readFileSync } from 'node:fs';
import { namesRightLabel } from './answers.mjs';

const [out] = process.argv.slice(2);
const test = (f) => {
  const r = JSON.parse(readFileSync(f, 'utf8'));
  const named = r.results.filter(namesRightLabel);
  return {
    accuracy: r.overall.accuracy, names_right_label: +(named.length / r.results.length).toFixed(4),
    letter_and_label_right: +(named.filter((x) => x.correct).length / r.results.length).toFixed(4),
    per_task: Object.fromEntries(r.tasks.map((t) => [t.task, t.accuracy])),
  };
};
const steps = readFileSync(`${out}/metrics.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.type === 'step');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const curve = steps.map((m) => m.reward);
console.log(JSON.stringify({
  test: { before: test(`${out}-before.json`), after: test(`${out}-after.json`) },
  reward: { first5: mean(curve.slice(0, 5)), last5: mean(curve.slice(-5)), curve: curve.map((x) => +x.toFixed(3)) },
  kl: steps.map((m) => +(m.kl ?? 0).toFixed(4)),
}, null, 1));
