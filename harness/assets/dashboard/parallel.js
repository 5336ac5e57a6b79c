// Parallel coordinates: one vertical axis per setting that varies and one for the metric, one
// line per run through its values, coloured by the metric (blue best, orange worst). Dragging
// along an axis brushes a range; the runs outside any brush turn grey, and the sweep page
// shows only the runs inside every brush (`onBrush` puts the ranges in the URL). A click on
// an axis without dragging clears its brush. Drawn on a canvas, so 10,000 runs stay quick.

import { el, fmt } from "./dom.js";

const MAX_WIDTH = 1240, HEIGHT = 260, TOP = 28, BOTTOM = 18, SIDE = 60;

// How an axis places values: linear, logarithmic (a positive range wider than 20×), or
// evenly spaced categories.
function scaleFor(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === "number")) {
    const lo = Math.min(...present), hi = Math.max(...present);
    const log = lo > 0 && hi / lo > 20;
    const f = log ? Math.log10 : (x) => x;
    const [a, b] = [f(lo), f(hi)];
    return {
      kind: log ? "log" : "linear",
      position: (v) => (v === null || v === undefined ? null : b === a ? 0.5 : (f(v) - a) / (b - a)),
      value: (p) => (log ? 10 ** (a + p * (b - a)) : a + p * (b - a)),
      ticks: [lo, hi],
    };
  }
  const categories = [...new Set(present.map(String))].sort((x, y) => x.localeCompare(y, "en", { numeric: true }));
  const at = (c) => (categories.length === 1 ? 0.5 : categories.indexOf(c) / (categories.length - 1));
  return {
    kind: "category",
    position: (v) => (v === null || v === undefined ? null : at(String(v))),
    value: (p) => p,
    categories,
    ticks: categories,
  };
}

// An axis of the chart: a setting (or the metric) and each row's value of it.
export function axisOf(key, values) {
  return { key, label: key, values, scale: scaleFor(values) };
}

// Whether `value` lies in `range` ([lo, hi] in the axis's units; categories by position).
export function inRange(axis, value, range) {
  if (!range) return true;
  if (value === null || value === undefined) return false;
  if (axis.scale.kind === "category") {
    const p = axis.scale.position(value);
    return p >= range[0] - 1e-9 && p <= range[1] + 1e-9;
  }
  return value >= range[0] && value <= range[1];
}

// `axes`: from `axisOf`, one value per row each; `metric`: the index of the metric's axis;
// `brushes`: {key: [lo, hi]}; `minimize`: whether low is good.
export function parallelCoords({ axes, metric, brushes, minimize, onBrush }) {
  const rows = axes[0] ? axes[0].values.length : 0;
  const WIDTH = Math.max(480, Math.min(MAX_WIDTH, document.getElementById("main").clientWidth - 40));
  const box = el("div", { class: "chart parallel", "data-chart": "parallel coordinates", "data-lines": rows });
  const canvas = el("canvas", { width: WIDTH * devicePixelRatio, height: HEIGHT * devicePixelRatio, style: `width:${WIDTH}px;height:${HEIGHT}px` });
  const overlay = el("div", { class: "parallel-axes", style: `width:${WIDTH}px;height:${HEIGHT}px` });
  box.append(el("div", { class: "chart-title" }, "parameters → metric ", el("span", { class: "muted" }, "(drag along an axis to filter; click it to clear)")),
    el("div", { class: "parallel-stage" }, canvas, overlay));
  const x = (i) => SIDE + (axes.length === 1 ? 0 : (i * (WIDTH - 2 * SIDE)) / (axes.length - 1));
  const y = (p) => TOP + (1 - p) * (HEIGHT - TOP - BOTTOM);
  const p = (py) => Math.min(1, Math.max(0, 1 - (py - TOP) / (HEIGHT - TOP - BOTTOM)));

  const ctx = canvas.getContext("2d");
  ctx.scale(devicePixelRatio, devicePixelRatio);
  const inside = (r) => axes.every((axis) => inRange(axis, axis.values[r], brushes[axis.key]));
  const colour = (r) => {
    const t = metric === null ? null : axes[metric].scale.position(axes[metric].values[r]);
    if (t === null) return "rgba(120,120,120,0.35)";
    const good = minimize ? 1 - t : t;
    // orange (worst) to blue (best)
    const mix = (a, b) => Math.round(a + (b - a) * good);
    return `rgba(${mix(234, 37)},${mix(88, 99)},${mix(12, 235)},0.55)`;
  };
  const line = (r) => {
    ctx.beginPath();
    let pen = false;
    axes.forEach((axis, i) => {
      const at = axis.scale.position(axis.values[r]);
      if (at === null) { pen = false; return; }
      if (pen) ctx.lineTo(x(i), y(at)); else ctx.moveTo(x(i), y(at));
      pen = true;
    });
    ctx.stroke();
  };
  ctx.lineWidth = rows > 2000 ? 0.6 : 1.2;
  let shown = 0;
  const kept = [];
  for (let r = 0; r < rows; r++) {
    if (inside(r)) { kept.push(r); continue; }
    ctx.strokeStyle = "rgba(200,200,200,0.35)";
    line(r);
  }
  for (const r of kept) { ctx.strokeStyle = colour(r); line(r); shown++; }
  box.dataset.shown = shown;

  // Axes, their labels and ticks, and the brushes, as elements over the canvas.
  axes.forEach((axis, i) => {
    const left = x(i);
    const lane = el("div", { class: "axis", "data-axis": axis.key, style: `left:${left - 14}px;top:${TOP}px;height:${HEIGHT - TOP - BOTTOM}px` });
    overlay.append(lane, el("div", { class: "axis-label", style: `left:${left}px` }, axis.label));
    const ticks = axis.scale.kind === "category" ? axis.scale.ticks.map((c) => [axis.scale.position(c), c]) : axis.scale.ticks.map((v) => [axis.scale.position(v), fmt(v, 4)]);
    for (const [at, text] of ticks) overlay.append(el("div", { class: "tick", style: `left:${left + 4}px;top:${y(at) - 7}px` }, text));
    const range = brushes[axis.key];
    const brush = el("div", { class: "brush", style: "display:none" });
    lane.append(brush);
    const showBrush = (a, b) => {
      const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
      brush.style.display = "block";
      brush.style.top = `${y(hi) - TOP}px`;
      brush.style.height = `${Math.max(2, y(lo) - y(hi))}px`;
    };
    if (range) {
      const pos = axis.scale.kind === "category" ? range : range.map((v) => axis.scale.position(v));
      showBrush(pos[0], pos[1]);
    }
    lane.addEventListener("mousedown", (down) => {
      down.preventDefault();
      const top = canvas.getBoundingClientRect().top;
      const start = p(down.clientY - top);
      let end = start;
      const move = (e) => { end = p(e.clientY - top); showBrush(start, end); };
      const up = () => {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
        if (Math.abs(end - start) < 0.01) return onBrush(axis.key, null);
        const [lo, hi] = [Math.min(start, end), Math.max(start, end)];
        onBrush(axis.key, axis.scale.kind === "category" ? [lo, hi] : [axis.scale.value(lo), axis.scale.value(hi)]);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    });
  });
  return box;
}
