// The sweep page: what its runs did (counts by status, retries, verdicts, the runs at each
// of halving's rungs, population-based training's exploits), parallel coordinates whose
// brushes filter everything below them, loss curves of the best runs shown (or of the best
// replicate groups, as bands, when seeds are folded), the search history, and the runs table
// (table.js). Every choice — status, brushes, fold, sort, log axis,
// smoothing — lives in the URL, so a view can be bookmarked and shared.

import { api, el, fmt, go, link, setCrumbs, withQuery, mean, STATUSES } from "./dom.js";
import { curveChart, historyChart, smooth } from "./charts.js";
import { axisOf, parallelCoords, inRange } from "./parallel.js";
import { runsTable, foldedTable, groupsOf } from "./table.js";

// Lines a curve chart draws: the best runs (or groups) of those shown; running runs first.
const CURVES_SHOWN = 20, GROUPS_SHOWN = 10;

// The runs as objects, from the columns the server sends.
function rowsOf(data) {
  return data.columns.id.map((id, i) => {
    const run = { values: {}, error: data.errors[id] ?? null };
    for (const [key, column] of Object.entries(data.columns)) run[key] = column[i];
    for (const [key, column] of Object.entries(data.values)) run.values[key] = column[i];
    return run;
  });
}

// Brushes from the URL: `b.KEY=LO~HI`.
function brushesOf(query) {
  const brushes = {};
  for (const [key, value] of query) {
    if (!key.startsWith("b.")) continue;
    const [lo, hi] = value.split("~").map(Number);
    if (Number.isFinite(lo) && Number.isFinite(hi)) brushes[key.slice(2)] = [lo, hi];
  }
  return brushes;
}

export async function sweepView(name, query) {
  setCrumbs(link(`/sweep/${encodeURIComponent(name)}`, name));
  const data = await api(`/api/sweeps/${encodeURIComponent(name)}`);
  const all = rowsOf(data);
  const metric = data.metric, minimize = data.goal === "minimize";
  const log = query.get("log") === "1", folded = query.get("fold") === "1";
  const smoothing = Number(query.get("smooth") || 0);
  const statusFilter = query.get("status") || "";
  const brushes = brushesOf(query);
  const value = (run, key) => (key in run.values ? run.values[key] : run[key]);

  const byStatus = all.filter((run) => !statusFilter || run.status === statusFilter);
  const axisKeys = [...data.varied.filter((key) => key !== "seed"), metric];
  const axes = axisKeys.map((key) => axisOf(key, byStatus.map((run) => value(run, key))));
  const shown = byStatus.filter((run, r) => axes.every((axis) => inRange(axis, axis.values[r], brushes[axis.key])));

  const stopped = new Map();
  data.verdicts.run.forEach((run, i) => { if (data.verdicts.decision[i] === "stop") stopped.set(run, data.verdicts.step[i]); });
  const view = el("div", {},
    el("h1", {}, name),
    summary(all, data, stopped),
    controls(query, statusFilter, log, folded, smoothing, all),
    axisKeys.length > 1 ? parallelCoords({
      axes, metric: axes.length - 1, brushes, minimize,
      onBrush: (key, range) => go(withQuery({ [`b.${key}`]: range ? range.map((v) => +v.toPrecision(4)).join("~") : "" })),
    }) : "",
    Object.keys(brushes).length ? el("p", { class: "muted", id: "brushed" }, `${shown.length.toLocaleString("en")} of ${byStatus.length.toLocaleString("en")} runs inside the brushes · `,
      el("a", { href: "#", onclick: (e) => { e.preventDefault(); go(clearBrushes()); } }, "clear")) : "");
  const charts = el("div", { class: "charts" });
  view.append(charts, el("h2", {}, folded ? "Configurations (seeds folded)" : "Runs"),
    folded ? foldedTable(shown, data, query) : runsTable(shown, data, query));

  const references = (loss) => {
    const variants = new Set(shown.map((run) => run.variant ?? ""));
    const only = variants.size === 1 ? [...variants][0] : null;
    return only !== null && data.references[only] ? data.references[only][loss] ?? null : null;
  };
  const open = (id) => go(`/run/${id}`);
  const lines = folded ? groupLines(shown, data, minimize) : runLines(shown, metric, minimize, stopped);
  if (lines.ids.length) {
    const ids = lines.ids.join(",");
    const [val, train] = await Promise.all([api(`/api/curves?runs=${ids}&split=val`), api(`/api/curves?runs=${ids}&split=train`)]);
    charts.append(
      curveChart({ title: "validation loss", lines: lines.build(val.curves, (l) => l), log, reference: references("val_loss"), open }),
      curveChart({ title: "training loss", lines: lines.build(train.curves, (l) => smooth(l, smoothing)), log, reference: references("train_loss"), open }));
  }
  charts.append(historyChart({ runs: shown, metric, minimize, log, open }));
  return view;
}

function clearBrushes() {
  const next = new URLSearchParams(location.search);
  for (const key of [...next.keys()]) if (key.startsWith("b.")) next.delete(key);
  return `${location.pathname}${next.toString() ? "?" + next : ""}`;
}

// What happened to the sweep's runs, counted.
function summary(all, data, stopped) {
  const count = (status) => all.filter((r) => r.status === status).length;
  const retried = all.filter((r) => r.retries > 0).length;
  const parts = [`${all.length.toLocaleString("en")} runs`, ...STATUSES.filter(count).map((s) => `${count(s).toLocaleString("en")} ${s}`)];
  if (retried) parts.push(`${retried} retried after a failure`);
  const verdicts = data.verdicts.run.length;
  if (data.pbt) {
    const ranked = new Set(data.exploits.step).size;
    const steps = data.pbt.exploit_steps.length;
    parts.push(`population-based training: ${data.exploits.run.length.toLocaleString("en")} exploits at ${ranked} of ${steps} exploit steps`);
  } else if (verdicts) {
    parts.push(`${verdicts.toLocaleString("en")} early-termination verdicts (${stopped.size} stops)`);
  }
  if (data.halving) {
    const at = (steps) => all.filter((r) => r.steps === steps).length.toLocaleString("en");
    parts.push(`halving: ${data.halving.rungs.map((steps) => `${at(steps)} at ${steps.toLocaleString("en")} steps`).join(", ")}`);
  }
  parts.push(`metric ${data.metric} (${data.goal})`);
  return el("p", { class: "muted", id: "summary" }, parts.join(" · "));
}

function controls(query, statusFilter, log, folded, smoothing, all) {
  const set = (changes) => go(withQuery(changes));
  const foldable = groupsOf(all).some((members) => members.length > 1);
  return el("div", { class: "controls" },
    el("select", { id: "status-filter", onchange: (e) => set({ status: e.target.value }) },
      el("option", { value: "" }, "every status"),
      STATUSES.map((s) => el("option", { value: s, selected: s === statusFilter }, s))),
    el("label", {}, el("input", { type: "checkbox", id: "log-axis", checked: log, onchange: (e) => set({ log: e.target.checked ? "1" : "" }) }), " log loss axis"),
    foldable ? el("label", {}, el("input", { type: "checkbox", id: "fold", checked: folded, onchange: (e) => set({ fold: e.target.checked ? "1" : "" }) }), " fold seeds (mean ± std)") : "",
    el("label", {}, "smooth training curves ",
      el("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: smoothing, onchange: (e) => set({ smooth: e.target.value === "0" ? "" : e.target.value }) })));
}

// Curves of single runs: running ones first, then the best finished ones.
function runLines(shown, metric, minimize, stopped) {
  const running = shown.filter((r) => r.status === "running");
  const finished = shown.filter((r) => r.status !== "running" && r[metric] !== null)
    .sort((a, b) => (a[metric] - b[metric]) * (minimize ? 1 : -1));
  const others = shown.filter((r) => r.status !== "running" && r[metric] === null);
  const picked = [...running, ...finished, ...others].slice(0, CURVES_SHOWN);
  return {
    ids: picked.map((r) => r.id),
    build: (curves, transform) => picked.filter((r) => curves[r.id]).map((r) => ({
      label: `run ${r.id}${stopped.has(r.id) ? " ×" : ""}`, run: r.id, stopAt: stopped.get(r.id),
      steps: curves[r.id].steps, losses: transform(curves[r.id].losses),
    })),
  };
}

// Curves of replicate groups: the mean of the members' curves with a band from their lowest
// to their highest, for the best groups by mean metric.
function groupLines(shown, data, minimize) {
  const metric = data.metric;
  const groups = groupsOf(shown).map((members) => {
    const done = members.map((r) => r[metric]).filter((x) => x !== null);
    return { members, score: done.length ? mean(done) : null };
  });
  groups.sort((a, b) => (a.score === null) - (b.score === null) || (a.score - b.score) * (minimize ? 1 : -1));
  const picked = groups.slice(0, GROUPS_SHOWN);
  return {
    ids: picked.flatMap((g) => g.members.map((r) => r.id)),
    build: (curves, transform) => picked.map((g) => {
      const steps = new Map();
      for (const run of g.members) {
        const curve = curves[run.id];
        if (!curve) continue;
        const losses = transform(curve.losses);
        curve.steps.forEach((step, i) => { if (losses[i] !== null) (steps.get(step) || steps.set(step, []).get(step)).push(losses[i]); });
      }
      const xs = [...steps.keys()].sort((a, b) => a - b);
      const first = g.members[0];
      const label = [first.variant, ...data.varied.filter((k) => k !== "seed").map((k) => `${k}=${fmt(first.values[k])}`)].filter(Boolean).join(" ");
      return {
        label: `${label || "all"} (${g.members.length} seeds)`, run: g.members.length === 1 ? first.id : undefined,
        steps: xs, losses: xs.map((s) => mean(steps.get(s))),
        band: { low: xs.map((s) => Math.min(...steps.get(s))), high: xs.map((s) => Math.max(...steps.get(s))) },
      };
    }).filter((line) => line.steps.length),
  };
}
