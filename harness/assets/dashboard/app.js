// The dashboard's entry: reads the URL (/, /sweep/NAME, /run/ID, /compare?runs=…), draws that
// view from /api, and draws it again when /api/events says the database changed — at most
// every half second, never while a mouse button is held (a brush being dragged). The views
// live in sweep.js, run.js and table.js; shared helpers in dom.js.

import { api, el, fmt, go, link, setCrumbs, statusTag, STATUSES } from "./dom.js";
import { sweepView } from "./sweep.js";
import { runView, compareView } from "./run.js";
import { resetTable } from "./table.js";

const main = document.getElementById("main");

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
  const heads = ["sweep", "runs", "status", "metric", "best", "started", "duration"];
  return el("div", {},
    el("h1", {}, "Sweeps"),
    sweeps.length
      ? el("table", { id: "sweeps" }, el("thead", {}, el("tr", {}, heads.map((h) => el("th", { class: ["sweep", "status", "metric", "started"].includes(h) ? "text" : "" }, h)))), el("tbody", {}, rows))
      : el("p", { class: "muted" }, "No sweeps in this database yet."));
}

// One view at a time; a refresh of the same page keeps its scroll position.
let current = null;
async function render() {
  const path = decodeURIComponent(location.pathname);
  const query = new URLSearchParams(location.search);
  const page = path.startsWith("/sweep/") ? path : null;
  if (page !== current) resetTable();
  try {
    let view;
    if (path === "/") view = await sweepsView();
    else if (path.startsWith("/sweep/")) view = await sweepView(path.slice(7), query);
    else if (path.startsWith("/run/")) view = await runView(path.slice(5));
    else if (path === "/compare") view = await compareView(query);
    else view = el("p", { class: "error" }, `No page at ${path}.`);
    const y = window.scrollY;
    main.replaceChildren(view);
    if (page === current) window.scrollTo(0, y);
    current = page;
    main.dataset.rendered = String(Number(main.dataset.rendered || 0) + 1);
  } catch (error) {
    main.replaceChildren(el("p", { class: "error" }, error.message));
  }
}
window.addEventListener("popstate", render);
window.addEventListener("navigate", render);

// Live: one stream for the page; each change redraws it, at most every half second.
let held = false, pending = null;
window.addEventListener("mousedown", () => { held = true; });
window.addEventListener("mouseup", () => { held = false; });
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(function again() {
    if (held) { pending = setTimeout(again, 250); return; }
    pending = null;
    render();
  }, 500);
}
const live = document.getElementById("live");
let greeted = false;
function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("hello", () => {
    live.classList.add("on");
    // A reconnect (a restarted server, a laptop waking): whatever changed meanwhile is fetched.
    if (greeted) refreshSoon();
    greeted = true;
  });
  events.addEventListener("changed", refreshSoon);
  events.addEventListener("error", () => {
    live.classList.remove("on");
    // The browser retries a dropped stream by itself, but gives up on one it could not
    // reopen (the server was away): then a new one, until the server is back.
    if (events.readyState === EventSource.CLOSED) setTimeout(listen, 2000);
  });
}
listen();

render();
