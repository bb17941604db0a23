// A dependency-free grouped bar chart: tokens/s and p99 per server, one group per alg × connections.
const COLORS = ['#2563eb', '#60a5fa', '#6b7280', '#9ca3af', '#f97316', '#16a34a', '#a855f7'];

export function tokenEndpointPlot(results) {
  const targets = [...new Set(results.map((r) => r.target))];
  const groups = [...new Set(results.map((r) => `${r.alg} c=${r.connections}`))];
  const panel = (title, value, unit, top) => {
    const max = Math.max(...results.map(value)) * 1.1 || 1;
    const width = 860;
    const height = 220;
    const left = 60;
    const groupWidth = (width - left - 20) / groups.length;
    const barWidth = (groupWidth - 20) / targets.length;
    const bars = results.map((r) => {
      const g = groups.indexOf(`${r.alg} c=${r.connections}`);
      const t = targets.indexOf(r.target);
      const h = (value(r) / max) * (height - 40);
      const x = left + g * groupWidth + 10 + t * barWidth;
      const y = top + height - 20 - h;
      return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[t % COLORS.length]}"><title>${r.target} ${r.alg} c=${r.connections}: ${value(r).toFixed(1)} ${unit}</title></rect>`;
    });
    const labels = groups.map(
      (g, i) => `<text x="${(left + i * groupWidth + groupWidth / 2).toFixed(1)}" y="${top + height - 4}" text-anchor="middle" font-size="12">${g}</text>`,
    );
    const axis = [0, 0.5, 1].map(
      (f) =>
        `<text x="${left - 6}" y="${(top + height - 20 - f * (height - 40) + 4).toFixed(1)}" text-anchor="end" font-size="11">${Math.round(f * max)}</text>`,
    );
    return [`<text x="${left}" y="${top + 12}" font-size="14" font-weight="bold">${title}</text>`, ...axis, ...bars, ...labels].join('\n');
  };
  // Three entries per row, so any number of targets fits the width.
  const legend = targets.map((t, i) => {
    const x = 60 + (i % 3) * 270;
    const y = 500 + Math.floor(i / 3) * 20;
    return `<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 16}" y="${y + 10}" font-size="12">${t}</text>`;
  });
  const svgHeight = 520 + Math.ceil(targets.length / 3) * 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${svgHeight}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    panel('Token endpoint: tokens/s (median)', (r) => r.tokensPerSecond.median, 'tokens/s', 10),
    panel('p99 latency, ms (median)', (r) => r.p99Ms.median, 'ms', 250),
    ...legend,
    '</svg>',
  ].join('\n');
}
