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
