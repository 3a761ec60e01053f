// Small SVG charts: stacked bars per step (throughput and failures).
const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// series: [{label, color, values: [n...]}], times: [iso...]
export function barChart({title, times, series, height = 140}) {
  const width = 560, pad = 28;
  const n = times.length;
  const totals = times.map((_, i) => series.reduce((s, x) => s + x.values[i], 0));
  const max = Math.max(1, ...totals);
  const bw = (width - pad) / Math.max(1, n);
  const root = svg('svg', {viewBox: `0 0 ${width} ${height + 20}`, class: 'chart', role: 'img'});
  const t = svg('title', {});
  t.textContent = title;
  root.appendChild(t);
  root.appendChild(svg('line', {x1: pad, y1: height, x2: width, y2: height, class: 'axis'}));
  const label = svg('text', {x: 0, y: 10, class: 'tick'});
  label.textContent = String(max);
  root.appendChild(label);
  times.forEach((time, i) => {
    let y = height;
    series.forEach((s) => {
      const v = s.values[i];
      if (!v) return;
      const bh = (v / max) * (height - 12);
      y -= bh;
      const rect = svg('rect', {x: pad + i * bw, y, width: Math.max(1, bw - 1), height: bh, fill: s.color});
      const tip = svg('title', {});
      tip.textContent = `${time}: ${s.label} ${v}`;
      rect.appendChild(tip);
      root.appendChild(rect);
    });
  });
  [0, n - 1].forEach((i) => {
    if (i < 0 || !times[i]) return;
    const tx = svg('text', {x: i === 0 ? pad : width, y: height + 15, class: 'tick',
                            'text-anchor': i === 0 ? 'start' : 'end'});
    tx.textContent = times[i].slice(5, 16).replace('T', ' ');
    root.appendChild(tx);
  });
  return root;
}
