// The evaluation worker: `mufun eval`'s scoring (src/model/eval.ts) off the main thread. Loads
// the samples and the model, answers each sample, and posts every answer with the scores so far.
// A 'stop' message ends it after the current answer. Started by the evaluations service.
import { parentPort } from 'node:worker_threads';
import { type SampleResult, evaluate, loadEvalSet, summarize } from '../../model/eval.js';
import { MufunModel } from '../../model/mufun.js';
import { Tokenizer } from '../../model/tokenizer.js';
import { EVAL_WORKER_KIND, type EvalWorkerData, type FromEvalWorker } from './protocol.js';
import { runAsWorker } from '../worker-run.js';

function post(m: FromEvalWorker): void {
  parentPort!.postMessage(m);
}

async function run(d: EvalWorkerData, signal: AbortSignal): Promise<void> {
  let model: MufunModel | null = null;
  try {
    const { samples, problems } = loadEvalSet(d.dataPath, { audioRoot: d.audioFolder, onBadSample: 'skip' });
    const total = d.limit !== undefined ? Math.min(d.limit, samples.length) : samples.length;
    post({ type: 'start', total, skipped: problems.map((p) => ({ id: p.id, message: p.message })) });
    model = MufunModel.load(d.modelDir, { ep: d.provider, threads: d.threads });
    const tokenizer = Tokenizer.fromDir(d.modelDir);
    const results: SampleResult[] = [];
    const report = await evaluate(model, tokenizer, samples, { limit: d.limit, signal }, (done, _total, result) => {
      results.push(result);
      post({ type: 'answer', result, done, scores: summarize(results) });
    });
    post({ type: 'end', cancelled: report.cancelled });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    await model?.release();
  }
}

runAsWorker<EvalWorkerData>(EVAL_WORKER_KIND, run);
