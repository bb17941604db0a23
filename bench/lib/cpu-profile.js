// Reads a V8 .cpuprofile (node --cpu-prof) into the two views docs/benchmarks.md uses: a table of
// where each request's CPU goes, by category, and a flame graph (SVG, root at the bottom).

const IDLE = new Set(['(idle)', '(program)']);
const SIGNATURE = new Set(['signOneShot', 'verifyOneShot']);
const SOCKET_WRITE = new Set(['writev', 'writevGeneric', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);

/**
 * Busy time per call-tree node, counting only the samples taken inside [fromMicros, toMicros] on
 * the monotonic clock (the clock `process.hrtime` reads too), so start-up and warm-up are left out.
 */
export function loadProfile(profile, { fromMicros = -Infinity, toMicros = Infinity } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, { ...node, self: 0 }]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index] ?? 0;
    const duration = profile.timeDeltas[index + 1] ?? 0;
    if (at >= fromMicros && at <= toMicros) nodes.get(id).self += duration;
  });
  return { nodes, parentOf, rootId: profile.nodes[0].id };
}

function stackOf(loaded, id) {
  const frames = [];
  for (let current = id; current !== undefined; current = loaded.parentOf.get(current)) frames.push(loaded.nodes.get(current).callFrame);
  return frames; // innermost first
}

/** What a sample is spent on, in the words of the table. */
function categorize(frames) {
  const self = frames[0];
  if (self.functionName === '(garbage collector)') return 'garbage collection';
  if (SIGNATURE.has(self.functionName)) return 'the signature (node:crypto)';
  if (SOCKET_WRITE.has(self.functionName)) return 'socket writes (the kernel’s loopback work)';
  for (const frame of frames) {
    const url = frame.url;
    const ours = /\/packages\/([^/]+)\/dist\/(.+)$/.exec(url);
    if (ours) return `m2m-auth ${ours[1]}: ${ours[2]}`;
    const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (dependency) return `dependency: ${dependency[1]}`;
    const bench = /\/bench\/(.+)$/.exec(url);
    if (bench) return `bench code: ${bench[1]}`;
  }
  return 'Node.js internals (HTTP parser, streams, tick queues)';
}

/** Rows of { category, microsPerRequest, share }, largest first. */
export function breakdown(loaded, requests) {
  const byCategory = new Map();
  let busy = 0;
  for (const [id, node] of loaded.nodes) {
    if (node.self === 0 || IDLE.has(node.callFrame.functionName)) continue;
    const category = categorize(stackOf(loaded, id));
    byCategory.set(category, (byCategory.get(category) ?? 0) + node.self);
    busy += node.self;
  }
  const rows = [...byCategory].map(([category, micros]) => ({ category, microsPerRequest: micros / requests, share: micros / busy }));
  rows.sort((a, b) => b.microsPerRequest - a.microsPerRequest);
  return { busyMicrosPerRequest: busy / requests, rows };
}

/** Flame-graph colours by each frame's own code, so Node's internals stay grey under any caller. */
const KINDS = [
  { name: 'm2m-auth', color: '#60a5fa', test: (frame) => /\/packages\/[^/]+\/dist\//.test(frame.url) },
  { name: 'dependencies, bench code', color: '#fb923c', test: (frame) => /\/(node_modules|bench)\//.test(frame.url) },
  { name: 'signature', color: '#f87171', test: (frame) => SIGNATURE.has(frame.functionName) },
  { name: 'socket writes', color: '#4ade80', test: (frame) => SOCKET_WRITE.has(frame.functionName) },
  { name: 'garbage collection', color: '#c084fc', test: (frame) => frame.functionName === '(garbage collector)' },
  { name: 'Node.js internals', color: '#d1d5db', test: () => true },
];
const kindOf = (frame) => KINDS.find((kind) => kind.test(frame));

const escapeXml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A flame graph of busy time: each frame as wide as the time spent in it and below it. */
export function flameGraphSvg(loaded, { title, width = 1200, rowHeight = 16, minShare = 0.002 } = {}) {
  const total = new Map();
  const visit = (id) => {
    const node = loaded.nodes.get(id);
    let sum = IDLE.has(node.callFrame.functionName) ? 0 : node.self;
    for (const child of node.children ?? []) sum += visit(child);
    total.set(id, sum);
    return sum;
  };
  const rootTotal = visit(loaded.rootId);
  const rects = [];
  let maxDepth = 0;
  const place = (id, x, depth) => {
    const node = loaded.nodes.get(id);
    let childX = x;
    for (const child of node.children ?? []) {
      const share = total.get(child) / rootTotal;
      if (share < minShare) {
        childX += share * width;
        continue;
      }
      const frame = loaded.nodes.get(child).callFrame;
      rects.push({ x: childX, w: share * width, depth, frame, share });
      maxDepth = Math.max(maxDepth, depth);
      place(child, childX, depth + 1);
      childX += share * width;
    }
  };
  place(loaded.rootId, 0, 0);
  const height = (maxDepth + 1) * rowHeight + 50;
  const legend = KINDS.map(
    (kind, index) =>
      `<rect x="${4 + index * 190}" y="24" width="10" height="10" fill="${kind.color}"/><text x="${18 + index * 190}" y="33" font-size="11">${escapeXml(kind.name)}</text>`,
  );
  const body = rects.map(({ x, w, depth, frame, share }) => {
    const kind = kindOf(frame);
    const y = height - 10 - (depth + 1) * rowHeight;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? ` ${frame.url.replace(/^.*\/(packages|node_modules|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const label =
      w > 40
        ? `<text x="${(x + 3).toFixed(1)}" y="${(y + rowHeight - 4).toFixed(1)}" font-size="10">${escapeXml(name.slice(0, Math.floor(w / 6)))}</text>`
        : '';
    return `<g><title>${escapeXml(`${name}${where} — ${(share * 100).toFixed(1)}% of busy time`)}</title><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(w - 0.5, 0.5).toFixed(1)}" height="${rowHeight - 1}" fill="${kind.color}"/>${label}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="4" y="16" font-size="13" font-weight="bold">${escapeXml(title ?? 'CPU flame graph')}</text>`,
    ...legend,
    ...body,
    '</svg>',
  ].join('\n');
}
