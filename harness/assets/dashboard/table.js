// The sweep page's tables: the runs (any column sorts, a checkbox picks runs to compare, a
// click opens one; long tables grow by pages) and, with seeds folded, one row per replicate
// group with the mean ± std of its losses, as `harness runs` prints it.

import { compare, el, fmt, go, mean, rate, std, statusTag, withQuery, LOSSES } from "./dom.js";

const PAGE = 200;
// Runs picked for comparison, kept while the page redraws itself.
const picked = new Set();
let limit = PAGE;

// A fresh table for another sweep: no picks, the first page.
export function resetTable() {
  picked.clear();
  limit = PAGE;
}

// Runs grouped by the replicate group the server gave them (those differing only in seed).
export function groupsOf(runs) {
  const groups = new Map();
  for (const run of runs) (groups.get(run.group) || groups.set(run.group, []).get(run.group)).push(run);
  return [...groups.values()];
}

function header(columns, sortKey, descending) {
  return el("tr", {}, columns.map(([key, label]) => key === "pick"
    ? el("th", { class: "pick" }, "")
    : el("th", {
      class: `${key === sortKey ? "sorted" + (descending ? "" : " asc") : ""} ${key === "variant" || key === "status" ? "text" : ""}`,
      "data-key": key,
      onclick: () => go(withQuery({ sort: key, desc: key === sortKey && !descending ? "1" : "" })),
    }, label)));
}

function more(total, shown) {
  return total > shown
    ? el("p", {}, el("button", { id: "more", onclick: () => { limit += PAGE; window.dispatchEvent(new Event("navigate")); } },
      `show ${Math.min(PAGE, total - shown)} more (${(total - shown).toLocaleString("en")} not shown)`))
    : "";
}

function compareBar() {
  const ids = [...picked];
  return el("div", { class: "controls" },
    el("button", { id: "compare", disabled: ids.length < 2, onclick: () => go(`/compare?runs=${ids.join(",")}`) },
      ids.length < 2 ? "pick two or more runs to compare" : `compare ${ids.length} runs`),
    ids.length ? el("button", { onclick: () => { picked.clear(); window.dispatchEvent(new Event("navigate")); } }, "clear picks") : "");
}

export function runsTable(runs, data, query) {
  const sortKey = query.get("sort") || data.metric;
  const descending = query.get("desc") === "1";
  const value = (run, key) => (key in run.values ? run.values[key] : run[key]);
  const sorted = runs.slice().sort((a, b) => compare(value(a, sortKey), value(b, sortKey)) * (descending ? -1 : 1));
  const columns = [["pick", ""], ["id", "run"], ...(runs.some((r) => r.variant) ? [["variant", "variant"]] : []), ...data.varied.map((k) => [k, k]),
    ["status", "status"], ["steps_done", "steps"], ["attempts", "tries"], ["train_loss", "train"], ["val_loss", "val"], ["test_loss", "test"], ["params", "params"], ["steps_per_sec", "steps/s"]];
  const page = sorted.slice(0, limit);
  const body = page.map((run) => el("tr", { "data-run": run.id, onclick: () => go(`/run/${run.id}`) }, columns.map(([key]) => {
    if (key === "pick") {
      return el("td", { class: "pick", onclick: (e) => e.stopPropagation() },
        el("input", { type: "checkbox", checked: picked.has(run.id), onchange: (e) => { e.target.checked ? picked.add(run.id) : picked.delete(run.id); window.dispatchEvent(new Event("navigate")); } }));
    }
    if (key === "status") return el("td", { class: "text" }, statusTag(run.status), run.error ? el("span", { class: "error", title: run.error }, " !") : "");
    if (key === "variant") return el("td", { class: "text" }, run.variant ?? "");
    if (key === "steps_done") return el("td", {}, `${fmt(run.steps_done)}${run.steps ? " / " + fmt(run.steps) : ""}`);
    if (key === "attempts") return el("td", { title: `${run.retries} after a failure` }, `${run.attempts}${run.retries ? ` (${run.retries} retried)` : ""}`);
    if (key === "steps_per_sec") return el("td", {}, rate(run.steps_per_sec));
    return el("td", {}, fmt(value(run, key), LOSSES.includes(key) ? 4 : 5));
  })));
  return el("div", {}, compareBar(),
    el("table", { id: "runs" }, el("thead", {}, header(columns, sortKey, descending)), el("tbody", {}, body)),
    more(sorted.length, page.length));
}

// One row per replicate group: its settings less the seed, how many seeds finished of how
// many, and each loss's mean ± std; a click compares its members.
export function foldedTable(runs, data, query) {
  const keys = data.varied.filter((k) => k !== "seed");
  const rows = groupsOf(runs).map((members) => {
    const row = { members, variant: members[0].variant, values: members[0].values, runs: members.length };
    row.seeds = members.filter((r) => r[data.metric] !== null).length;
    for (const loss of LOSSES) {
      const xs = members.map((r) => r[loss]).filter((x) => x !== null);
      row[loss] = xs.length ? mean(xs) : null;
      row[`${loss}_std`] = std(xs);
    }
    return row;
  });
  const sortKey = query.get("sort") || data.metric;
  const descending = query.get("desc") === "1";
  const value = (row, key) => (key in row.values ? row.values[key] : row[key]);
  rows.sort((a, b) => compare(value(a, sortKey), value(b, sortKey)) * (descending ? -1 : 1));
  const columns = [...(runs.some((r) => r.variant) ? [["variant", "variant"]] : []), ...keys.map((k) => [k, k]),
    ["seeds", "seeds"], ["train_loss", "train"], ["val_loss", "val"], ["test_loss", "test"]];
  const body = rows.slice(0, limit).map((row) => el("tr", {
    onclick: () => go(row.members.length > 1 ? `/compare?runs=${row.members.map((r) => r.id).join(",")}` : `/run/${row.members[0].id}`),
  }, columns.map(([key]) => {
    if (key === "variant") return el("td", { class: "text" }, row.variant ?? "");
    if (key === "seeds") return el("td", {}, `${row.seeds} / ${row.runs}`);
    if (LOSSES.includes(key)) return el("td", {}, row[key] === null ? "–" : `${fmt(row[key])}${row[`${key}_std`] === null ? "" : ` ± ${fmt(row[`${key}_std`])}`}`);
    return el("td", {}, fmt(value(row, key), 5));
  })));
  return el("div", {},
    el("table", { id: "groups" }, el("thead", {}, header(columns, sortKey, descending)), el("tbody", {}, body)),
    more(rows.length, Math.min(rows.length, limit)));
}
