// Connectors from TinyLLaVA Factory, chosen by config's connector_type:
//   blp_<k>i_<h>x  Linear(k·d → h·k·d) → GELU → Linear(→ LLM hidden)   (MuFun: blp_4i_2x)
//   mlp<N>x_gelu   Linear(in → D) → (GELU → Linear(D → D)) × (N−1)
//   linear         Linear(in → D)
import { ConfigError } from '../config.js';
import type { Value } from '../ir/graph.js';
import { gelu } from '../ir/ops.js';
import type { Params } from './params.js';

export interface ConnectorShape {
  inFeatures: number; // concatenated audio feature width
  hidden: number; // LLM hidden size
}

export type Connector = (x: Value, p: Params) => Value;

export function connectorFor(type: string, s: ConnectorShape): Connector {
  const blp = /^blp_(\d+)i_(\d+)x$/.exec(type);
  if (blp) {
    const h = Number(blp[2]) * s.inFeatures;
    return (x, p) => p.linear(gelu(p.linear(x, 'linear1', s.inFeatures, h, { bias: true })), 'linear2', h, s.hidden, { bias: true });
  }
  const mlp = /^mlp(\d+)x_gelu$/.exec(type);
  if (mlp) {
    const depth = Number(mlp[1]);
    return (x, p) => {
      // nn.Sequential indices: Linear at 0, 2, 4, … with GELU between.
      let y = p.linear(x, '0', s.inFeatures, s.hidden, { bias: true });
      for (let i = 1; i < depth; i++) y = p.linear(gelu(y), `${2 * i}`, s.hidden, s.hidden, { bias: true });
      return y;
    };
  }
  if (type === 'linear') {
    return (x, p) => p.linear(x, '', s.inFeatures, s.hidden, { bias: true });
  }
  throw new ConfigError(`config.json: unknown connector_type "${type}" (known: blp_<k>i_<h>x, mlp<N>x_gelu, linear)`);
}

/** Rejects unknown names, and blp_<k>i with other than k feature layers, before any shape fails. */
export function checkConnector(type: string, featureLayers: number): void {
  connectorFor(type, { inFeatures: 1, hidden: 1 }); // throws on an unknown name
  const blp = /^blp_(\d+)i_(\d+)x$/.exec(type);
  if (blp && Number(blp[1]) !== featureLayers) {
    throw new ConfigError(`config.json: connector ${type} takes ${blp[1]} feature layers, but audio_feature_layers has ${featureLayers}`);
  }
}
