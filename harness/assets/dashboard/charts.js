// Line charts (vendored uPlot): loss curves, with a band per folded replicate group, a × where
// early termination stopped a run, the sweep's reference line, hover naming the line under
// the cursor and a click opening its run; and the search history (each run's metric in the
// order the runs were made, with the best so far).

import { el, fmt, PALETTE } from "./dom.js";

const WIDTH = 620, HEIGHT = 300;
// Each chart's zoom (the steps shown) by page and title, kept while the page redraws itself
// live; a double-click zooms back out.
const zooms = new Map();

// TensorBoard's smoothing: an exponential moving average, debiased so it starts on the data.
export function smooth(losses, weight) {
  if (!weight) return losses;
  let last = 0, n = 0;
  return losses.map((y) => {
    if (y === null) return null;
    last = last * weight + (1 - weight) * y;
    n += 1;
    return last / (1 - weight ** n);
  });
}

// A loss axis, linear or logarithmic, fitted to the data (uPlot's log axis would otherwise
// widen to whole powers of ten).
function yScale(log) {
  if (!log) return { distr: 1 };
  return { distr: 3, log: 10, range: (u, min, max) => [min / 1.05, max * 1.05] };
}

// The value of a curve at `step`, or at its last point before it.
function valueAt(steps, losses, step) {
  let found = null;
  for (let i = 0; i < steps.length && steps[i] <= step; i++) if (losses[i] !== null) found = [steps[i], losses[i]];
  return found;
}

// `lines`: [{label, steps, losses, run?, stopAt?, band?: {low, high}}]; `reference`: a loss
// drawn as a dashed line; `open(run)`: what a click on a run's line does.
export function curveChart({ title, lines, log = false, reference = null, open = null }) {
  const shown = lines.filter((line) => line.steps.length);
  const points = shown.reduce((n, line) => n + line.steps.length, 0);
  const box = el("div", { class: "chart", "data-chart": title, "data-points": points, "data-lines": shown.length },
    el("div", { class: "chart-title" }, title, el("span", { class: "hover muted" })));
  if (!shown.length) return box.append(el("p", { class: "muted" }, "no points yet")), box;

  // Each line is one series; a banded line adds its low and high edges after it.
  const tables = [], series = [{ label: "step" }], bands = [], owner = [null];
  shown.forEach((line, i) => {
    const color = line.color || PALETTE[i % PALETTE.length];
    tables.push([line.steps, line.losses]);
    series.push({ label: line.label, stroke: color, width: 1.5, spanGaps: true, points: { show: false } });
    owner.push(line);
    if (line.band) {
      const at = series.length;
      tables.push([line.steps, line.band.high], [line.steps, line.band.low]);
      for (const edge of ["max", "min"]) {
        series.push({ label: `${line.label} ${edge}`, stroke: "transparent", spanGaps: true, points: { show: false } });
        owner.push(null);
      }
      bands.push({ series: [at, at + 1], fill: color + "22" });
    }
  });
  const hover = box.querySelector(".hover");
  const zoomKey = `${location.pathname}${location.search} ${title}`;
  let focused = null;
  const stops = shown.filter((line) => line.stopAt !== undefined && line.stopAt !== null);
  box.dataset.stopped = stops.length;
  const draw = (u) => {
    const ctx = u.ctx;
    ctx.save();
    if (reference !== null) {
      const y = u.valToPos(reference, "y", true);
      ctx.strokeStyle = "#6b7480";
      ctx.setLineDash([6, 4]);
      ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#6b7480";
      ctx.font = `${11 * devicePixelRatio}px system-ui`;
      ctx.fillText(`reference ${fmt(reference)}`, u.bbox.left + 6, y - 4);
    }
    // A × where a run was stopped, on its curve.
    const r = 5 * devicePixelRatio;
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const line of stops) {
      const at = valueAt(line.steps, line.losses, line.stopAt);
      if (!at) continue;
      const x = u.valToPos(at[0], "x", true), y = u.valToPos(at[1], "y", true);
      ctx.strokeStyle = u.series[owner.indexOf(line)].stroke();
      ctx.beginPath(); ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r); ctx.stroke();
    }
    ctx.restore();
  };
  const plot = new uPlot({
    width: WIDTH, height: HEIGHT,
    scales: { x: { time: false }, y: yScale(log) },
    series, bands,
    legend: { show: shown.length <= 12 },
    cursor: { focus: { prox: 16 } },
    focus: { alpha: 0.3 },
    hooks: {
      draw: [draw],
      setSelect: [(u) => {
        if (u.select.width > 0) zooms.set(zoomKey, { min: u.posToVal(u.select.left, "x"), max: u.posToVal(u.select.left + u.select.width, "x") });
      }],
      setSeries: [(u, i) => {
        focused = i !== null && owner[i] ? owner[i] : null;
        box.dataset.focused = focused ? focused.label : "";
        hover.textContent = focused ? `  ${focused.label}${focused.run !== undefined && open ? " — click to open" : ""}` : "";
      }],
    },
  }, uPlot.join(tables), box);
  if (zooms.has(zoomKey)) plot.setScale("x", zooms.get(zoomKey));
  plot.over.addEventListener("dblclick", () => zooms.delete(zoomKey));
  box.dataset.zoomed = zooms.has(zoomKey) ? "1" : "";
  // A band's edges are not lines of their own: no legend entry.
  plot.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => { if (i > 0 && !owner[i]) row.style.display = "none"; });
  if (open) {
    let down = null;
    plot.over.addEventListener("mousedown", (e) => { down = [e.clientX, e.clientY]; });
    plot.over.addEventListener("mouseup", (e) => {
      const still = down && Math.abs(e.clientX - down[0]) < 3 && Math.abs(e.clientY - down[1]) < 3;
      if (still && focused && focused.run !== undefined) open(focused.run);
    });
    plot.over.style.cursor = "pointer";
  }
  box.plot = plot;
  return box;
}

// Each finished run's metric by run number, and the best so far; a click on a point opens it.
export function historyChart({ runs, metric, minimize, log = false, open }) {
  const done = runs.filter((run) => run[metric] !== null && run[metric] !== undefined).sort((a, b) => a.id - b.id);
  const box = el("div", { class: "chart", "data-chart": "search history", "data-points": done.length },
    el("div", { class: "chart-title" }, "search history", el("span", { class: "hover muted" })));
  if (!done.length) return box.append(el("p", { class: "muted" }, "no finished run yet")), box;
  let best = null;
  const bests = done.map((run) => (best = best === null || (minimize ? run[metric] < best : run[metric] > best) ? run[metric] : best));
  const hover = box.querySelector(".hover");
  const plot = new uPlot({
    width: WIDTH, height: HEIGHT,
    scales: { x: { time: false }, y: yScale(log) },
    // Run numbers are whole: ticks at 1, 2, 5, 10, 20, 50, …
    axes: [{ incrs: [1, 2, 5].flatMap((m) => [1, 10, 100, 1000, 10000, 100000].map((p) => m * p)).sort((a, b) => a - b) }, {}],
    series: [
      { label: "run" },
      { label: metric, stroke: "#2563eb", paths: () => null, points: { show: true, size: 5, fill: "#2563eb" } },
      { label: "best so far", stroke: "#dc2626", width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
    ],
    legend: { show: true },
    hooks: {
      setCursor: [(u) => {
        const i = u.cursor.idx;
        hover.textContent = i === null || i === undefined ? "" : `  run ${done[i].id}: ${fmt(done[i][metric])} — click to open`;
      }],
    },
  }, [done.map((run) => run.id), done.map((run) => run[metric]), bests], box);
  plot.over.addEventListener("click", () => {
    const i = plot.cursor.idx;
    if (i !== null && i !== undefined) open(done[i].id);
  });
  plot.over.style.cursor = "pointer";
  box.plot = plot;
  return box;
}
