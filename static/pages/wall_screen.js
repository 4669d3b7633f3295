// The wall screen, live (views/wall_screen.py says the layout rule; its numbers are the board's
// data- attributes). After muster.js has settled a live message (the replaced row dropped, times
// shown, counts), rows that arrived in #wall-arrivals move to their group's list (a group the
// page does not have: a severity made since it loaded, so the page loads again), each list is
// sorted by data-sort, and the board is laid out again: rows are shown in order while they fit,
// the rest summarised by group. Promises read "in 12 min" or "overdue by 3 min" (shorter than
// muster.js's "due in", which leaves room for the names), refreshed every 15 s with a clock and
// whether the stream is connected.
(() => {
  "use strict";
  const minute = 60 * 1000;

  function span(ms) {
    const minutes = Math.round(Math.abs(ms) / minute);
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return minutes % 60 && hours < 10 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }

  function showDue() {
    const now = Date.now();
    for (const el of document.querySelectorAll("time[datetime][data-wall=due]")) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      const delta = date.getTime() - now;
      el.title = date.toLocaleString();
      el.textContent = delta < 0 ? `overdue by ${span(delta)}` : `in ${span(delta)}`;
      el.closest(".due")?.classList.toggle("overdue", delta < 0);
    }
  }

  function place() {
    const arrivals = document.getElementById("wall-arrivals");
    for (const row of [...arrivals.children]) {
      const list = document.getElementById(row.dataset.group);
      if (!list) { location.reload(); return false; }
      list.appendChild(row);
    }
    return true;
  }

  function sort(list) {
    const rows = [...list.children];
    const sorted = [...rows].sort((a, b) => a.dataset.sort.localeCompare(b.dataset.sort));
    if (sorted.some((row, i) => row !== rows[i])) sorted.forEach((row) => list.appendChild(row));
    return sorted;
  }

  function layout() {
    const board = document.getElementById("wall-board");
    const budget = Number(board.dataset.budget);
    const gap = Number(board.dataset.gap);
    const summary = Number(board.dataset.summary);
    const groups = [...board.querySelectorAll(".wall-group")].map((section) => ({
      section,
      rows: sort(section.querySelector(".wall-rows")),
      columns: Number(section.dataset.columns),
      height: Number(section.dataset.height),
    }));
    const cost = (group, rows) => (rows ? gap + Math.ceil(rows / group.columns) * group.height : 0);
    const all = groups.reduce((sum, group) => sum + cost(group, group.rows.length), 0);
    const room = all <= budget ? Infinity : budget - summary;
    let used = 0;
    let cut = false;
    for (const group of groups) {
      let shown = 0;
      if (!cut) {
        shown = group.rows.length;
        while (shown && used + cost(group, shown) > room) shown -= 1;
        cut = shown < group.rows.length;
        used += cost(group, shown);
      }
      group.rows.forEach((row, i) => { row.hidden = i >= shown; });
      group.section.hidden = shown === 0;
      const more = board.querySelector(`[data-more="${group.section.querySelector(".wall-rows").id}"]`);
      const hidden = group.rows.length - shown;
      if (more) {
        more.hidden = hidden === 0;
        more.querySelector(".n").textContent = String(hidden);
        const noun = more.querySelector(".noun");
        noun.textContent = hidden === 1 ? noun.dataset.one : noun.dataset.many;
      }
    }
    const list = board.querySelector(".wall-more");
    list.hidden = !cut && !list.querySelector("[data-beyond]");
    board.querySelector(".wall-empty").hidden = groups.some((group) => group.rows.length);
  }

  function tick() {
    showDue();
    const now = new Date();
    const shown = document.getElementById("wall-now");
    shown.dateTime = now.toISOString();
    shown.textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function refresh() {
    if (place()) layout();
    showDue();
  }

  function connected(live) {
    const state = document.getElementById("wall-state");
    state.textContent = live ? "Live" : "Reconnecting…";
    state.classList.toggle("live", live);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("wall-state").textContent = "Connecting…";
    refresh();
    tick();
    setInterval(tick, 15 * 1000);
  });
  document.addEventListener("htmx:sse:after:message", refresh);
  document.addEventListener("htmx:sse:after:connection", () => connected(true));
  document.addEventListener("htmx:sse:error", () => connected(false));
})();
