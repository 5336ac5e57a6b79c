// What every view shares: building elements, formatting numbers, reading /api, and moving to
// another page without a reload (`go` announces it; app.js draws the page).

export const STATUSES = ["pending", "running", "completed", "diverged", "stopped", "paused", "failed", "interrupted"];
export const LOSSES = ["train_loss", "val_loss", "test_loss"];
export const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#4b5563", "#9333ea"];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number") return String(x);
  if (Number.isInteger(x)) return x.toLocaleString("en");
  return Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(digits);
}

// A rate such as steps/s: one decimal, thousands grouped.
export function rate(x) {
  return x === null || x === undefined ? "–" : x.toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function go(href) {
  history.pushState(null, "", href);
  window.dispatchEvent(new Event("navigate"));
}

export function link(href, text) {
  return el("a", { href, onclick: (e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(href); } } }, text);
}

export const statusTag = (status) => el("span", { class: `status ${status}` }, status);

export async function api(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

export function setCrumbs(...parts) {
  document.getElementById("crumbs").replaceChildren(...parts.flatMap((part, i) => (i ? [" / ", part] : [part])));
}

// The current URL with `changes` made to its query (an empty value removes the key).
export function withQuery(changes) {
  const next = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) (v === "" || v === null || v === undefined ? next.delete(k) : next.set(k, v));
  return `${location.pathname}${next.toString() ? "?" + next : ""}`;
}

// Sorts nulls last, numbers by value, the rest as text.
export function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
}

export function mean(xs) { return xs.reduce((s, x) => s + x, 0) / xs.length; }
export function std(xs) {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
