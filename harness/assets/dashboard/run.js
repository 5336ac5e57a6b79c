// The run page (status, losses, curves, each attempt with where it ran and how it ended, its
// verdicts or exploits, every decision about it with its reasons as `harness explain` tells
// them, samples, configuration, data) and the compare page: two or more runs' curves
// overlaid, with a table of the settings that differ between them and their losses.

import { api, el, fmt, go, link, rate, setCrumbs, statusTag } from "./dom.js";
import { curveChart } from "./charts.js";

const card = (label, value) => el("div", { class: "card" }, el("div", { class: "muted" }, label), el("div", {}, value));

export async function runView(id) {
  const data = await api(`/api/runs/${encodeURIComponent(id)}`);
  const run = data.run;
  setCrumbs(link(`/sweep/${encodeURIComponent(run.sweep)}`, run.sweep), link(`/run/${run.id}`, `run ${run.id}`));
  const where = [run.device ?? run.requested_device ?? "–", run.device_name, run.host, run.slurm_job ? `Slurm job ${run.slurm_job}` : null].filter(Boolean).join(" · ");
  const [train, val, why] = await Promise.all([
    api(`/api/curves?runs=${run.id}&split=train`), api(`/api/curves?runs=${run.id}&split=val`),
    api(`/api/runs/${run.id}/explanation`)]);
  const stop = data.verdicts.find((v) => v.decision === "stop");
  const lines = [
    { label: "train", ...train.curves[run.id] },
    { label: "val", ...val.curves[run.id], stopAt: stop ? stop.step : undefined },
  ];
  const time = (at) => (at ? at.replace("T", " ").slice(0, 19) : "–");
  const attempts = data.attempts.length
    ? el("table", { id: "attempts" },
      el("thead", {}, el("tr", {}, ["attempt", "started", "ended", "outcome", "ran on"].map((h, i) => el("th", { class: i ? "text" : "" }, h)))),
      el("tbody", {}, data.attempts.map((a) => el("tr", {},
        el("td", {}, a.attempt), el("td", { class: "text" }, time(a.started_at)), el("td", { class: "text" }, time(a.ended_at)),
        el("td", { class: "text" }, a.outcome ? statusTag(a.outcome) : "running"),
        el("td", { class: "text" }, [a.device, a.device_name, a.host, a.slurm_job ? `Slurm job ${a.slurm_job}` : null].filter(Boolean).join(" · "))))))
    : el("p", { class: "muted" }, "No attempt recorded one by one (a database from before schema 10): where it last ran is above.");
  const verdicts = data.verdicts.length
    ? el("table", { id: "verdicts" }, el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "val loss judged"), el("th", { class: "text" }, "verdict"))),
      el("tbody", {}, data.verdicts.map((v) => el("tr", {}, el("td", {}, fmt(v.step)), el("td", {}, fmt(v.value)), el("td", { class: "text" }, v.decision)))))
    : el("p", { class: "muted" }, "No early-termination verdict on this run.");
  const exploit = (e) => e.run === run.id
    ? `went on from run ${e.donor}'s checkpoint: ${e.changes.join(", ")}`
    : `gave its checkpoint to run ${e.run}`;
  const exploits = data.exploits.length
    ? el("table", { id: "exploits" }, el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", { class: "text" }, "exploit"))),
      el("tbody", {}, data.exploits.map((e) => el("tr", {}, el("td", {}, fmt(e.step)), el("td", { class: "text" }, exploit(e))))))
    : el("p", { class: "muted" }, "It went on as it was at every exploit step so far.");
  return el("div", {},
    el("h1", {}, `Run ${run.id}`, run.variant ? ` (${run.variant})` : ""),
    el("div", { class: "cards" },
      card("status", statusTag(run.status)), card("steps", fmt(run.steps_done)),
      card("attempts", `${run.attempts}${run.retries ? ` (${run.retries} after a failure)` : ""}`),
      card("train / val / test", `${fmt(run.train_loss)} / ${fmt(run.val_loss)} / ${fmt(run.test_loss)}`),
      card("parameters", fmt(run.params)), card("steps/s", rate(run.steps_per_sec)),
      card("wall time", run.wall_seconds === null ? "–" : `${fmt(run.wall_seconds, 1)} s`), card("ran on", where),
      card("commit", run.git_commit ? run.git_commit.slice(0, 12) : "–")),
    run.error ? el("pre", { class: "error" }, run.error) : "",
    el("h2", {}, "Curves"), curveChart({ title: "loss", lines }),
    el("h2", {}, "Attempts"), attempts,
    ...(data.pbt ? [el("h2", {}, "Population-based training"), exploits] : [el("h2", {}, "Early termination"), verdicts]),
    el("h2", {}, "Why: every decision about this run"), el("pre", { id: "explanation" }, why.lines.join("\n")),
    el("h2", {}, "Samples"), data.samples.length ? el("pre", { id: "samples" }, data.samples.join("\n")) : el("p", { class: "muted" }, "None yet."),
    el("h2", {}, "Configuration"), el("pre", { id: "config" }, JSON.stringify(data.config, null, 2)),
    el("h2", {}, "Data"), el("p", {}, `${run.data_path} (sha256 ${run.data_sha256.slice(0, 16)}…), backend ${run.backend}, ${run.threads} thread(s)`));
}

export async function compareView(query) {
  const ids = (query.get("runs") || "").split(",").filter(Boolean);
  if (ids.length < 2) return el("p", { class: "error" }, "Compare needs two or more runs: /compare?runs=1,2");
  const pages = await Promise.all(ids.map((id) => api(`/api/runs/${encodeURIComponent(id)}`)));
  const sweeps = [...new Set(pages.map((p) => p.run.sweep))];
  setCrumbs(...sweeps.map((s) => link(`/sweep/${encodeURIComponent(s)}`, s)), el("span", {}, "compare"));
  const list = ids.join(",");
  const [train, val] = await Promise.all([api(`/api/curves?runs=${list}&split=train`), api(`/api/curves?runs=${list}&split=val`)]);
  const open = (id) => go(`/run/${id}`);
  const lines = (curves) => pages.filter((p) => curves[p.run.id]).map((p) => {
    const stop = p.verdicts.find((v) => v.decision === "stop");
    return { label: `run ${p.run.id}`, run: p.run.id, stopAt: stop ? stop.step : undefined, ...curves[p.run.id] };
  });
  // The settings whose values are not the same in every run compared.
  const keys = [...new Set(pages.flatMap((p) => Object.keys(p.config)))].sort()
    .filter((key) => new Set(pages.map((p) => JSON.stringify(p.config[key] ?? null))).size > 1);
  const row = (label, cell) => el("tr", {}, el("th", { class: "text" }, label), pages.map((p) => el("td", {}, cell(p))));
  return el("div", {},
    el("h1", {}, `Comparing ${ids.length} runs`),
    el("div", { class: "charts" },
      curveChart({ title: "validation loss", lines: lines(val.curves), open }),
      curveChart({ title: "training loss", lines: lines(train.curves), open })),
    el("h2", {}, keys.length ? "Settings that differ" : "The runs' settings are all the same"),
    el("table", { id: "differences" },
      el("thead", {}, el("tr", {}, el("th", { class: "text" }, ""), pages.map((p) => el("th", {}, link(`/run/${p.run.id}`, `run ${p.run.id}`))))),
      el("tbody", {},
        keys.map((key) => row(key, (p) => fmt(p.config[key] ?? null, 5))),
        row("status", (p) => statusTag(p.run.status)),
        row("steps", (p) => fmt(p.run.steps_done)),
        ["train_loss", "val_loss", "test_loss"].map((loss) => row(loss, (p) => fmt(p.run[loss]))),
        row("steps/s", (p) => rate(p.run.steps_per_sec)))));
}
