// The public status page's live stream, when its first request fails. htmx's SSE extension
// reconnects a stream that was open and dropped, but a first request that is refused (503 "too
// many live viewers" with Retry-After, a 5xx, a 429) or never reaches the server is an ordinary
// failed request to it: the page would stay as it was drawn, without a word, until reloaded.
// Here such a request is made again, after the Retry-After the server gave or a growing delay,
// until a stream opens. A 204 means there is nothing live to follow: nothing more is asked.
// The feed's element says where it is in data-live: "connected" while a stream is open,
// "waiting" while the next try is due.
(() => {
  "use strict";
  const FEED = "[hx-sse\\:connect]";
  const FIRST_DELAY = 1000; // ms
  const LONGEST_DELAY = 60 * 1000;
  const failures = new WeakMap();

  function again(feed, retryAfter) {
    const failed = (failures.get(feed) || 0) + 1;
    failures.set(feed, failed);
    feed.dataset.live = "waiting";
    const seconds = Number.parseInt(retryAfter || "", 10);
    const backoff = Math.min(FIRST_DELAY * 2 ** (failed - 1), LONGEST_DELAY);
    const delay = Number.isNaN(seconds) ? backoff : Math.max(seconds * 1000, backoff);
    const jitter = delay * 0.3 * (2 * Math.random() - 1);
    setTimeout(() => {
      if (!feed.isConnected || feed.dataset.live === "connected") return;
      htmx.ajax("GET", feed.getAttribute("hx-sse:connect"), { source: feed });
    }, delay + jitter);
  }

  document.addEventListener("htmx:sse:after:connection", (event) => {
    const feed = event.target;
    if (!(feed instanceof Element) || !feed.matches(FEED)) return;
    failures.delete(feed);
    feed.dataset.live = "connected";
  });
  document.addEventListener("htmx:sse:error", (event) => {
    const feed = event.target;
    if (feed instanceof Element && feed.matches(FEED)) feed.dataset.live = "waiting";
  });
  document.addEventListener("htmx:after:request", (event) => {
    const feed = event.target;
    const response = event.detail?.ctx?.response;
    if (!(feed instanceof Element) || !feed.matches(FEED) || !response) return;
    const type = response.headers?.get?.("Content-Type") || "";
    if (type.includes("text/event-stream")) return; // the extension follows it from here
    if (response.status === 204) {
      feed.dataset.live = "none";
      return;
    }
    again(feed, response.headers?.get?.("Retry-After"));
  });
  document.addEventListener("htmx:error", (event) => {
    const feed = event.target;
    if (!(feed instanceof Element) || !feed.matches(FEED)) return;
    if (feed.dataset.live === "connected" || event.detail?.ctx?.response) return;
    again(feed, null); // the request never got an answer
  });
})();
