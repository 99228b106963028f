// Arrivals pushed by the server (/events, see web/push.py) instead of asked for: the navigation's
// numbers follow them, and pages that care (inbox.js) hear a "gongwen:inbox" event with the counts.
// EventSource reconnects by itself after a dropped connection; nothing here polls.
(function () {
  if (!window.EventSource) return;
  const source = new EventSource("/events");
  const show = (id, value) => {
    const element = document.getElementById(id);
    if (!element) return;
    element.textContent = value;
    if (id === "unread-count") element.hidden = value === 0;  // the badge shows only unread notices
  };
  const parsed = (message) => {
    try { return JSON.parse(message.data); } catch (e) { return null; }
  };
  source.addEventListener("inbox", (message) => {
    const counts = parsed(message);
    if (!counts) return;
    show("todo-count", counts.tasks);
    show("unread-count", counts.unread);
    document.dispatchEvent(new CustomEvent("gongwen:inbox", {detail: counts}));
  });
  // The session ended (or too many pages are open): reconnecting would not help, so the page stops
  // listening and says why.
  source.addEventListener("ended", (message) => {
    source.close();
    document.dispatchEvent(new CustomEvent("gongwen:ended", {detail: parsed(message) || {}}));
  });
  window.addEventListener("pagehide", () => source.close());
})();
