// Drops nodes and initializers that no graph output depends on (backward rules emit
// gradients for every input, some of which nothing uses).
import type { Graph } from './graph.js';

export function pruneDeadNodes(g: Graph): void {
  const live = new Set(g.outputs.map((o) => o.name));
  const keep: boolean[] = new Array(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => live.has(o))) continue;
    keep[i] = true;
    for (const inp of n.inputs) if (inp) live.add(inp);
  }
  const nodes = g.nodes.filter((_, i) => keep[i]);
  g.nodes.length = 0;
  g.nodes.push(...nodes);
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
}

/**
 * The graph's nodes with each `Identity` that only renames a node's result to a graph output
 * folded away (the node writes the output directly). onnxruntime runs such an Identity as a
 * copy: for a decode step that is every layer's KV cache copied once more.
 */
export function withoutOutputIdentities(g: Graph): Graph['nodes'] {
  const outputs = new Set(g.outputs.map((o) => o.name));
  const inputs = new Set(g.inputs.map((i) => i.name));
  const produced = new Set(g.nodes.flatMap((n) => n.outputs));
  const rename = new Map<string, string>();
  for (const n of g.nodes) {
    if (n.op !== 'Identity' || n.domain !== '' || !outputs.has(n.outputs[0])) continue;
    const src = n.inputs[0];
    if (!produced.has(src) || inputs.has(src) || outputs.has(src) || g.initializers.has(src) || rename.has(src)) continue;
    rename.set(src, n.outputs[0]);
  }
  const folded = new Set(rename.values());
  const to = (name: string) => rename.get(name) ?? name;
  return g.nodes
    .filter((n) => !(n.op === 'Identity' && n.domain === '' && folded.has(n.outputs[0]) && rename.get(n.inputs[0]) === n.outputs[0]))
    .map((n) => ({ ...n, inputs: n.inputs.map((i) => (i ? to(i) : i)), outputs: n.outputs.map(to) }));
}
