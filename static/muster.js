// Muster's small page helpers; every page works without them.
// - <time datetime="…" data-show="ago|due|local"> shows local, relative times, refreshed
//   every 15 s ("12 min ago", "due in 4 min", "overdue by 3 min").
// - Lists marked data-sorted keep their rows ordered by each row's data-sort key after live
//   updates; elements marked data-count="<selector>" show how many rows match.
// - Rows arriving live carry class "fresh": an earlier element with the same id is dropped (the
//   new row replaces it), a fresh row marked data-remove goes too, and a fresh row's
//   data-announce text is read out politely (the #announcer live region).
(() => {
  "use strict";
  const minute = 60 * 1000;

  function span(ms) {
    const minutes = Math.round(Math.abs(ms) / minute);
    if (minutes < 1) return "less than a minute";
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return minutes % 60 && hours < 10 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
    return `${Math.round(hours / 24)} days`;
  }

  function local(date) {
    const today = new Date();
    const sameDay = date.toDateString() === today.toDateString();
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return sameDay ? time : `${date.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
  }

  function showTimes(root) {
    const now = Date.now();
    for (const el of root.querySelectorAll("time[datetime][data-show]")) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      const delta = date.getTime() - now;
      el.title = date.toLocaleString();
      const show = el.dataset.show;
      if (show === "ago") {
        el.textContent = delta > -minute ? "just now" : `${span(delta)} ago`;
      } else if (show === "due") {
        const late = delta < 0;
        el.textContent = late ? `overdue by ${span(delta)}` : `due in ${span(delta)} (${local(date)})`;
        el.closest(".due")?.classList.toggle("overdue", late);
      } else {
        el.textContent = local(date);
      }
    }
  }

  function sortLists(root) {
    for (const list of root.querySelectorAll("[data-sorted]")) {
      const rows = [...list.children].filter((row) => row.dataset.sort !== undefined);
      const sorted = [...rows].sort((a, b) => a.dataset.sort.localeCompare(b.dataset.sort));
      if (sorted.some((row, i) => row !== rows[i])) sorted.forEach((row) => list.appendChild(row));
      const empty = list.parentElement?.querySelector(":scope > .empty");
      if (empty) empty.hidden = rows.length > 0;
    }
    for (const counter of root.querySelectorAll("[data-count]")) {
      counter.textContent = String(document.querySelectorAll(counter.dataset.count).length);
    }
  }

  function settleFresh() {
    const said = [];
    for (const el of document.querySelectorAll(".fresh")) {
      if (el.id) {
        for (const old of document.querySelectorAll(`[id="${CSS.escape(el.id)}"]`)) {
          if (old !== el) old.remove();
        }
      }
      if (el.hasAttribute("data-remove")) { el.remove(); continue; }
      if (el.dataset.announce) said.push(el.dataset.announce);
      el.removeAttribute("data-announce");
      el.classList.remove("fresh");
      el.classList.add("arrived");
    }
    const region = document.getElementById("announcer");
    if (region && said.length) region.textContent = said.join(". ");
  }

  function refresh() {
    settleFresh();
    showTimes(document);
    sortLists(document);
  }

  document.addEventListener("DOMContentLoaded", () => {
    refresh();
    setInterval(() => showTimes(document), 15 * 1000);
  });
  document.addEventListener("htmx:after:swap", refresh);
  document.addEventListener("htmx:sse:after:message", refresh);
})();
