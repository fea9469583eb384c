// `mufun audio info|features`: what a file is, and the log-mel clips MuFun's tower would see.
import { Command, InvalidArgumentError } from 'commander';
import { audioInfo } from '../../model/audio/info.js';
import { type Segment, loadAudio } from '../../model/audio/load.js';
import { LogMel, clipWaveform } from '../../model/audio/mel.js';
import { type TensorToWrite, writeSafetensors } from '../../model/safetensors.js';

export function parseSegment(v: string): Segment {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*,\s*(\d+(?:\.\d*)?|\.\d+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('a segment is start,end in seconds, e.g. 30,60.5');
  return [Number(m[1]), Number(m[2])];
}

function parseBins(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 201) throw new InvalidArgumentError('must be an integer from 1 to 201 (80 for Whisper v1/v2, 128 for large-v3)');
  return n;
}

export function audioCommand(): Command {
  const audio = new Command('audio').description('inspect audio files and compute the log-mel features MuFun sees');

  audio
    .command('info')
    .description('print JSON: codec, sampleRate, channels, durationSec, tags (from the container; decodes nothing)')
    .argument('<file>', 'wav, mp3, flac, ogg, opus or .npy')
    .action(async (file: string) => {
      console.log(JSON.stringify(await audioInfo(file), null, 2));
    });

  audio
    .command('features')
    .description("decode, cut the segment at the file's rate, resample to 16 kHz, split into 30 s clips and write each clip's log-mel as mel.0, mel.1, …")
    .argument('<file>', 'wav, mp3, flac, ogg, opus or .npy')
    .requiredOption('--out <file>', 'output .safetensors')
    .option('--seg <start,end>', 'segment in seconds of the source', parseSegment)
    .option('--mel-bins <n>', 'mel bins (128 for Whisper large-v3, as MuFun)', parseBins, 128)
    .action(async (file: string, o: { out: string; seg?: Segment; melBins: number }) => {
      const t0 = performance.now();
      let shown = -1;
      const a = await loadAudio(file, {
        segment: o.seg ?? null,
        onProgress: process.stderr.isTTY
          ? (p) => {
              const pct = Math.floor(p * 100);
              if (pct !== shown) process.stderr.write(`\rdecoding ${(shown = pct)} %`);
            }
          : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      const clips = clipWaveform(a.pcm);
      const lm = await LogMel.create(o.melBins);
      const tensors: Record<string, TensorToWrite> = {};
      try {
        for (let i = 0; i < clips.length; i++) {
          tensors[`mel.${i}`] = { dtype: 'F32', shape: [o.melBins, lm.frames], data: await lm.compute(clips[i]) };
        }
      } finally {
        await lm.release();
      }
      const meta = {
        source: file, codec: a.codec, sourceRate: String(a.sourceRate), channels: String(a.channels),
        segment: o.seg ? `${o.seg[0]},${o.seg[1]}` : 'all', durationSec: String(a.durationSec),
        samples16k: String(a.pcm.length), clips: String(clips.length), melBins: String(o.melBins),
      };
      writeSafetensors(o.out, tensors, meta);
      console.log(JSON.stringify({
        out: o.out, clips: clips.length, shape: [o.melBins, lm.frames], codec: a.codec, sourceRate: a.sourceRate,
        durationSec: a.durationSec, samples16k: a.pcm.length, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
      }, null, 2));
    });

  return audio;
}
