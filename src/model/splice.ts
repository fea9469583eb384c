// The <audio> splice, as MuFun (TinyLLaVA's prepare_inputs_labels_for_multimodal) does it:
// each row's ids are cut at the audio markers; text pieces are embedded, each marker is
// replaced by all of its audio's clip embeddings (in order of appearance), whose labels
// are ignored; rows are right-padded with zero embeddings, mask 0 and ignored labels.
// The layout is integer bookkeeping done here; the embedding gathers run in the graph.
import { int, type Value } from './ir/graph.js';
import { gather, mul, toDtype, unsqueeze, where } from './ir/ops.js';

export const AUDIO_TOKEN = -200;
export const IGNORE_INDEX = -100;
export const PAD_ID = -1; // right padding in pre-tokenized rows (dropped before splicing)

export interface SpliceRow {
  ids: number[]; // token ids with AUDIO_TOKEN markers
  labels?: number[]; // same length as ids; AUDIO_TOKEN positions are ignored regardless
}

export interface SplicePlan {
  batch: number;
  length: number; // T, the longest spliced row
  rowLengths: number[];
  inputIds: BigInt64Array; // [B,T] text token ids, 0 at audio and padding
  audioIndex: BigInt64Array; // [B,T] row of the flattened audio embeddings, 0 elsewhere
  isAudio: Uint8Array; // [B,T]
  attentionMask: BigInt64Array; // [B,T]
  positionIds: BigInt64Array; // [B,T] 0…T−1
  labels: BigInt64Array; // [B,T]
}

export class SpliceError extends Error {}

/**
 * clipsPerAudio[k]: how many clips the k-th audio (in order of appearance over all rows) has;
 * its embeddings are rows [start·tokensPerClip, (start+n)·tokensPerClip) of the audio input.
 */
export function planSplice(rows: SpliceRow[], clipsPerAudio: number[], tokensPerClip: number): SplicePlan {
  type Piece = { ids: number[]; labels: number[] } | { audioStart: number; count: number };
  let audio = 0;
  let clip = 0;
  const pieces: Piece[][] = [];
  const rowLengths: number[] = [];
  for (const [r, row] of rows.entries()) {
    const keep = row.ids.map((id, i) => i).filter((i) => row.ids[i] !== PAD_ID);
    const ids = keep.map((i) => row.ids[i]);
    const labels = keep.map((i) => (row.labels ? row.labels[i] : IGNORE_INDEX));
    if (row.labels && row.labels.length !== row.ids.length) {
      throw new SpliceError(`row ${r}: ${row.labels.length} labels for ${row.ids.length} ids`);
    }
    const out: Piece[] = [];
    let text: { ids: number[]; labels: number[] } = { ids: [], labels: [] };
    let len = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== AUDIO_TOKEN) {
        text.ids.push(ids[i]);
        text.labels.push(labels[i]);
        continue;
      }
      if (audio >= clipsPerAudio.length) {
        throw new SpliceError(`row ${r} has more <audio> markers than audios given (${clipsPerAudio.length})`);
      }
      out.push(text);
      len += text.ids.length;
      const n = clipsPerAudio[audio++];
      out.push({ audioStart: clip * tokensPerClip, count: n * tokensPerClip });
      len += n * tokensPerClip;
      clip += n;
      text = { ids: [], labels: [] };
    }
    out.push(text);
    len += text.ids.length;
    pieces.push(out);
    rowLengths.push(len);
  }
  if (audio !== clipsPerAudio.length) {
    throw new SpliceError(`${clipsPerAudio.length} audios given but the rows have ${audio} <audio> markers`);
  }
  const B = rows.length;
  const T = Math.max(1, ...rowLengths);
  const plan: SplicePlan = {
    batch: B,
    length: T,
    rowLengths,
    inputIds: new BigInt64Array(B * T),
    audioIndex: new BigInt64Array(B * T),
    isAudio: new Uint8Array(B * T),
    attentionMask: new BigInt64Array(B * T),
    positionIds: new BigInt64Array(B * T),
    labels: new BigInt64Array(B * T).fill(BigInt(IGNORE_INDEX)),
  };
  for (let b = 0; b < B; b++) {
    let t = b * T;
    for (const piece of pieces[b]) {
      if ('ids' in piece) {
        for (let i = 0; i < piece.ids.length; i++, t++) {
          plan.inputIds[t] = BigInt(piece.ids[i]);
          plan.labels[t] = BigInt(piece.labels[i]);
        }
      } else {
        for (let i = 0; i < piece.count; i++, t++) {
          plan.audioIndex[t] = BigInt(piece.audioStart + i);
          plan.isAudio[t] = 1;
        }
      }
    }
    for (let i = 0; i < rowLengths[b]; i++) plan.attentionMask[b * T + i] = 1n;
    // transformers numbers every position 0…T−1, padding included (it only changes padded outputs).
    for (let i = 0; i < T; i++) plan.positionIds[b * T + i] = BigInt(i);
  }
  return plan;
}

/** In the graph: inputs_embeds = audio rows where isAudio, token embeddings elsewhere, 0 on padding. */
export function spliceEmbeds(
  embedTokens: Value, inputIds: Value, audioEmbeds: Value, audioIndex: Value, isAudio: Value, attentionMask: Value,
): Value {
  const text = gather(embedTokens, inputIds);
  const audio = gather(audioEmbeds, audioIndex);
  // The newest T columns of the mask belong to these positions (earlier ones to the cache).
  const g = inputIds.graph;
  const T = g.op('Shape', [inputIds], { start: int(1) });
  const mine = g.op('Slice', [attentionMask, g.op('Neg', [T]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1])]);
  const keep = unsqueeze(toDtype(mine, text.dtype), [2]);
  return mul(where(unsqueeze(isAudio, [2]), audio, text), keep);
}
