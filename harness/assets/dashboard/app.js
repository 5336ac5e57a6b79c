// The dashboard's one script: reads the URL (/, /sweep/NAME, /run/ID, with the table's sort and
// filter in the query string so a view can be bookmarked), fetches that view's JSON from
// /api, draws it, and draws it again whenever /api/events says the database changed.
"use strict";

const main = document.getElementById("main");
const crumbs = document.getElementById("crumbs");
const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#4b5563", "#9333ea"];
const STATUSES = ["pending", "running", "completed", "diverged", "stopped", "paused", "failed", "interrupted"];
const LOSSES = ["train_loss", "val_loss", "test_loss"];
// Runs whose curves a sweep page draws: the best of those the table shows.
const CURVES_SHOWN = 20;

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
};
const fmt = (x, digits = 4) => (x === null || x === undefined ? "–" : typeof x === "number" ? (Number.isInteger(x) ? x.toLocaleString("en") : x.toFixed(digits)) : String(x));
const link = (href, text) => el("a", { href, onclick: (e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(href); } } }, text);
const statusTag = (status) => el("span", { class: `status ${status}` }, status);

async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function go(href) {
  history.pushState(null, "", href);
  render();
}
window.addEventListener("popstate", () => render());

// One view at a time; a refresh of the same view keeps its scroll position.
let current = null;
async function render(refresh = false) {
  const path = decodeURIComponent(location.pathname);
  const query = new URLSearchParams(location.search);
  try {
    let view;
    if (path === "/") view = await sweepsView();
    else if (path.startsWith("/sweep/")) view = await sweepView(path.slice(7), query);
    else if (path.startsWith("/run/")) view = await runView(path.slice(5));
    else view = el("p", { class: "error" }, `No page at ${path}.`);
    const y = window.scrollY;
    main.replaceChildren(view);
    if (refresh) window.scrollTo(0, y);
    current = path;
  } catch (error) {
    main.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

function setCrumbs(...parts) {
  crumbs.replaceChildren(...parts.flatMap((part, i) => (i ? [" / ", part] : [part])));
}

function duration(start, end) {
  if (!start) return "–";
  const seconds = ((end ? Date.parse(end) : Date.now()) - Date.parse(start)) / 1000;
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function sweepsView() {
  setCrumbs();
  const { sweeps } = await api("/api/sweeps");
  const rows = sweeps.slice().reverse().map((s) => el("tr", { onclick: () => go(`/sweep/${encodeURIComponent(s.name)}`) },
    el("td", { class: "text" }, link(`/sweep/${encodeURIComponent(s.name)}`, s.name)),
    el("td", {}, fmt(s.runs)),
    el("td", { class: "text" }, STATUSES.filter((st) => s.counts[st]).map((st) => [statusTag(st), ` ${s.counts[st]} `])),
    el("td", { class: "text" }, s.metric.replace("_loss", "")),
    el("td", {}, fmt(s.best)),
    el("td", { class: "text" }, s.started_at ? s.started_at.replace("T", " ").slice(0, 19) : "–"),
    el("td", {}, duration(s.started_at, s.counts.running || s.counts.pending ? null : s.finished_at))));
  return el("div", {},
    el("h1", {}, "Sweeps"),
    sweeps.length ? el("table", {}, el("thead", {}, el("tr", {}, ["sweep", "runs", "status", "metric", "best", "started", "duration"].map((h, i) => el("th", { class: i === 0 || i === 2 || i === 3 || i === 5 ? "text" : "" }, h)))), el("tbody", {}, rows))
      : el("p", { class: "muted" }, "No sweeps in this database yet."));
}

async function sweepView(name, query) {
  setCrumbs(link(`/sweep/${encodeURIComponent(name)}`, name));
  const data = await api(`/api/sweeps/${encodeURIComponent(name)}`);
  const sortKey = query.get("sort") || data.metric;
  const descending = query.get("desc") === "1";
  const statusFilter = query.get("status") || "";
  const minimize = data.goal === "minimize";
  const value = (run, key) => (key in run ? run[key] : run.values[key]);
  let runs = data.runs.filter((run) => !statusFilter || run.status === statusFilter);
  runs.sort((a, b) => compare(value(a, sortKey), value(b, sortKey)) * (descending ? -1 : 1));

  const setQuery = (changes) => {
    const next = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) (v === "" || v === null ? next.delete(k) : next.set(k, v));
    go(`${location.pathname}${next.toString() ? "?" + next : ""}`);
  };
  const columns = [["id", "run"], ...(data.runs.some((r) => r.variant) ? [["variant", "variant"]] : []), ...data.varied.map((k) => [k, k]),
    ["status", "status"], ["steps_done", "steps"], ["attempts", "tries"], ["train_loss", "train"], ["val_loss", "val"], ["test_loss", "test"], ["params", "params"], ["steps_per_sec", "steps/s"]];
  const header = el("tr", {}, columns.map(([key, label]) => el("th", {
    class: `${key === sortKey ? "sorted" + (descending ? "" : " asc") : ""} ${key === "variant" || key === "status" ? "text" : ""}`,
    onclick: () => setQuery({ sort: key, desc: key === sortKey && !descending ? "1" : "" }),
  }, label)));
  const body = runs.map((run) => el("tr", { onclick: () => go(`/run/${run.id}`) }, columns.map(([key]) => {
    if (key === "status") return el("td", { class: "text" }, statusTag(run.status));
    if (key === "variant") return el("td", { class: "text" }, run.variant ?? "");
    if (key === "steps_done") return el("td", {}, `${fmt(run.steps_done)}${run.steps ? " / " + fmt(run.steps) : ""}`);
    if (key === "steps_per_sec") return el("td", {}, fmt(run.steps_per_sec, 1));
    return el("td", {}, fmt(value(run, key), LOSSES.includes(key) ? 4 : 5));
  })));

  const count = (status) => data.runs.filter((r) => r.status === status).length;
  const summary = el("p", { class: "muted" }, `${data.runs.length} runs · ${STATUSES.filter(count).map((s) => `${count(s)} ${s}`).join(" · ")} · metric ${data.metric} (${data.goal})`);
  const filter = el("select", { onchange: (e) => setQuery({ status: e.target.value }) },
    el("option", { value: "" }, "every status"), STATUSES.map((s) => el("option", s === statusFilter ? { value: s, selected: "" } : { value: s }, s)));
  const logToggle = el("label", {}, el("input", { type: "checkbox", ...(query.get("log") === "1" ? { checked: "" } : {}), onchange: (e) => setQuery({ log: e.target.checked ? "1" : "" }) }), " log loss axis");

  // Curves of the best runs the table shows, by the sweep's metric.
  const ranked = runs.filter((r) => r[data.metric] !== null).sort((a, b) => (a[data.metric] - b[data.metric]) * (minimize ? 1 : -1));
  const shown = (ranked.length ? ranked : runs).slice(0, CURVES_SHOWN);
  const charts = el("div", {});
  const view = el("div", {}, el("h1", {}, name), summary, el("div", { class: "controls" }, filter, logToggle), charts, el("h2", {}, "Runs"),
    el("table", { id: "runs" }, el("thead", {}, header), el("tbody", {}, body)));
  if (shown.length) {
    const ids = shown.map((r) => r.id).join(",");
    const [val, train] = await Promise.all([api(`/api/curves?runs=${ids}&split=val`), api(`/api/curves?runs=${ids}&split=train`)]);
    const stopped = new Map(data.verdicts.filter((v) => v.decision === "stop").map((v) => [v.run, v.step]));
    charts.append(chart("validation loss", shown, val.curves, query.get("log") === "1", stopped),
      chart("training loss", shown, train.curves, query.get("log") === "1", stopped));
  }
  return view;
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
}

// A uPlot chart of `runs`' curves; a × where early termination stopped a run.
function chart(title, runs, curves, logScale, stopped = new Map(), label = (r) => `run ${r.id}${stopped.has(r.id) ? " ×" : ""}`) {
  const series = runs.filter((r) => curves[r.id] && curves[r.id].steps.length);
  // data-points: how many points it draws, for the browser tests (and curious readers).
  const points = series.reduce((n, r) => n + curves[r.id].steps.length, 0);
  const box = el("div", { class: "chart", "data-chart": title, "data-points": points }, el("div", { class: "muted" }, title));
  if (!series.length) return box.append(el("p", { class: "muted" }, "no points yet")), box;
  const joined = uPlot.join(series.map((r) => [curves[r.id].steps, curves[r.id].losses.map((y) => (y === null ? null : y))]));
  const opts = {
    width: 640, height: 300,
    scales: { x: { time: false }, y: { distr: logScale ? 3 : 1 } },
    series: [{ label: "step" }, ...series.map((r, i) => ({
      label: label(r),
      stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true,
      points: { show: false },
    }))],
    legend: { live: true },
    cursor: { focus: { prox: 16 } },
    focus: { alpha: 0.3 },
  };
  const plot = new uPlot(opts, joined, box);
  // Clicking a curve's legend entry opens that run.
  plot.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => {
    if (i > 0) row.addEventListener("dblclick", () => go(`/run/${series[i - 1].id}`));
  });
  return box;
}

async function runView(id) {
  const data = await api(`/api/runs/${encodeURIComponent(id)}`);
  const run = data.run;
  setCrumbs(link(`/sweep/${encodeURIComponent(run.sweep)}`, run.sweep), link(`/run/${run.id}`, `run ${run.id}`));
  const card = (label, value) => el("div", { class: "card" }, el("div", { class: "muted" }, label), el("div", {}, value));
  const where = [run.device ?? run.requested_device ?? "–", run.device_name, run.host, run.slurm_job ? `Slurm job ${run.slurm_job}` : null].filter(Boolean).join(" · ");
  const [train, val] = await Promise.all([api(`/api/curves?runs=${run.id}&split=train`), api(`/api/curves?runs=${run.id}&split=val`)]);
  const both = { [`${run.id}t`]: train.curves[run.id], [`${run.id}v`]: val.curves[run.id] };
  const lines = [{ id: `${run.id}t`, name: "train" }, { id: `${run.id}v`, name: "val" }];
  const curveChart = chart("loss", lines, both, false, new Map(), (line) => line.name);
  const verdicts = data.verdicts.length
    ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "val loss"), el("th", { class: "text" }, "verdict"))),
      el("tbody", {}, data.verdicts.map((v) => el("tr", {}, el("td", {}, fmt(v.step)), el("td", {}, fmt(v.value)), el("td", { class: "text" }, v.decision)))))
    : el("p", { class: "muted" }, "No early-termination verdict on this run.");
  return el("div", {},
    el("h1", {}, `Run ${run.id}`, run.variant ? ` (${run.variant})` : ""),
    el("div", { class: "cards" },
      card("status", statusTag(run.status)), card("steps", fmt(run.steps_done)), card("attempts", fmt(run.attempts)),
      card("train / val / test", `${fmt(run.train_loss)} / ${fmt(run.val_loss)} / ${fmt(run.test_loss)}`),
      card("parameters", fmt(run.params)), card("steps/s", fmt(run.steps_per_sec, 1)), card("ran on", where),
      card("commit", run.git_commit ? run.git_commit.slice(0, 12) : "–")),
    run.error ? el("pre", { class: "error" }, run.error) : "",
    el("h2", {}, "Curves"), curveChart,
    el("h2", {}, "Early termination"), verdicts,
    el("h2", {}, "Samples"), data.samples.length ? el("pre", { id: "samples" }, data.samples.join("\n")) : el("p", { class: "muted" }, "None yet."),
    el("h2", {}, "Configuration"), el("pre", { id: "config" }, JSON.stringify(data.config, null, 2)),
    el("h2", {}, "Data"), el("p", {}, `${run.data_path} (sha256 ${run.data_sha256.slice(0, 16)}…), backend ${run.backend}, ${run.threads} thread(s)`));
}

// Live: one stream; each change redraws the view shown, at most every half second.
let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; render(true); }, 500);
}
const live = document.getElementById("live");
const events = new EventSource("/api/events");
events.addEventListener("hello", () => { live.classList.add("on"); if (current !== null) refreshSoon(); });
events.addEventListener("changed", refreshSoon);
events.addEventListener("error", () => live.classList.remove("on"));

render();
