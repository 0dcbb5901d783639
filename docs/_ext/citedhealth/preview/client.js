// Live preview client, injected into every HTML page the preview serves.
// It tells the server which page it shows, as of which generation; the
// server answers {"generation": n, "errors": [...], "reload": bool} then and
// after each build: "reload" means this page changed since it was loaded
// (a save reloads the pages it changed, not every open one); errors are drawn
// over the page, which stays the last good build, until a good build clears them.
(() => {
  "use strict";
  const pageGeneration = __GENERATION__;
  const overlayId = "citedhealth-preview-errors";

  function clearOverlay() {
    const old = document.getElementById(overlayId);
    if (old) old.remove();
  }

  function showOverlay(errors) {
    clearOverlay();
    const box = document.createElement("div");
    box.id = overlayId;
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-label", "Build failed");
    box.style.cssText =
      "position:fixed;inset:0 0 auto 0;max-height:70vh;overflow:auto;z-index:2147483647;" +
      "background:#fff5f5;color:#1a1a1a;border-bottom:4px solid #c00;padding:1em 1.5em;" +
      "font:14px/1.5 ui-monospace,monospace;box-shadow:0 4px 16px rgba(0,0,0,.3)";
    const heading = document.createElement("h2");
    heading.style.cssText = "margin:0 0 .5em;font-size:16px;color:#c00";
    heading.textContent =
      `Build failed (${errors.length} error${errors.length === 1 ? "" : "s"}): ` +
      "below is the last good build; the next good save clears this.";
    box.appendChild(heading);
    const list = document.createElement("ol");
    for (const error of errors) {
      const item = document.createElement("li");
      item.className = "citedhealth-preview-error";
      if (error.file) {
        const where = document.createElement("strong");
        where.textContent = error.line ? `${error.file}:${error.line}` : error.file;
        item.append(where, ": ");
      }
      const message = document.createElement("span");
      message.style.whiteSpace = "pre-wrap";
      message.textContent = error.message;
      item.appendChild(message);
      list.appendChild(item);
    }
    box.appendChild(list);
    document.body.appendChild(box);
  }

  function connect() {
    const socket = new WebSocket(`ws://${location.host}/websocket-reload`);
    socket.onopen = () => {
      socket.send(JSON.stringify({ page: location.pathname, generation: pageGeneration }));
    };
    socket.onmessage = (event) => {
      const status = JSON.parse(event.data);
      if (status.reload) {
        location.reload();
      } else if (status.errors.length) {
        showOverlay(status.errors);
      } else {
        clearOverlay();
      }
    };
    // The server restarted: try again until it is back.
    socket.onclose = () => setTimeout(connect, 1000);
  }

  connect();
})();
