/* Cited Health: previews of cited works, on hover and on keyboard focus.

   Each in-text citation number links to its entry in the article's
   bibliography. Pointing at the number, or tabbing to it, shows that entry in
   a tooltip beside it (role="tooltip", tied to the link by aria-describedby),
   so readers see what is cited without leaving the sentence. The preview
   stays while the pointer is over it (its DOI link can be clicked), and
   Escape closes it (WCAG 2.1, 1.4.13). The preview is a copy of the entry,
   so it shows the entry's kind of evidence (span.ch-evidence) too. No
   third-party code, no request.
   Without JavaScript, the number still links to the entry. */
(() => {
  "use strict";

  const LINKS = "span.bibtex-citation a.reference.internal[href^='#']";
  const HIDE_DELAY_MS = 250;
  const GAP_PX = 6;
  const MARGIN_PX = 8;
  let tip = null;
  let current = null;
  let hideTimer = 0;

  function entryFor(link) {
    const entry = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    return entry && entry.classList.contains("citation") ? entry : null;
  }

  function createTip() {
    const host = document.querySelector("article[role='main']") || document.body;
    tip = document.createElement("div");
    tip.id = "ch-citation-preview";
    tip.className = "ch-citation-preview";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    tip.addEventListener("mouseenter", () => clearTimeout(hideTimer));
    tip.addEventListener("mouseleave", scheduleHide);
    host.appendChild(tip);
  }

  function fill(entry) {
    tip.replaceChildren();
    const label = entry.querySelector(".label");
    entry.querySelectorAll(":scope > p").forEach((paragraph, index) => {
      const copy = paragraph.cloneNode(true);
      copy.removeAttribute("id");
      // Links in the preview are for the pointer; the keyboard reaches them in the bibliography.
      copy.querySelectorAll("a").forEach((a) => a.setAttribute("tabindex", "-1"));
      if (index === 0 && label) {
        const number = document.createElement("span");
        number.className = "ch-citation-preview-label";
        number.textContent = label.textContent.trim() + " ";
        copy.prepend(number);
      }
      tip.appendChild(copy);
    });
  }

  function place(link) {
    const box = link.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const left = Math.max(MARGIN_PX, Math.min(box.left, width - tip.offsetWidth - MARGIN_PX));
    let top = box.bottom + GAP_PX;
    if (top + tip.offsetHeight > window.innerHeight && box.top - GAP_PX - tip.offsetHeight > 0) {
      top = box.top - GAP_PX - tip.offsetHeight;
    }
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  function show(link) {
    const entry = entryFor(link);
    if (!entry) return;
    clearTimeout(hideTimer);
    if (current && current !== link) current.removeAttribute("aria-describedby");
    current = link;
    fill(entry);
    tip.hidden = false;
    link.setAttribute("aria-describedby", tip.id);
    place(link);
  }

  function hide() {
    clearTimeout(hideTimer);
    if (current) current.removeAttribute("aria-describedby");
    current = null;
    if (tip) tip.hidden = true;
  }

  function scheduleHide() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, HIDE_DELAY_MS);
  }

  function init() {
    const links = document.querySelectorAll(LINKS);
    if (!links.length) return;
    createTip();
    links.forEach((link) => {
      if (!entryFor(link)) return;
      link.addEventListener("mouseenter", () => show(link));
      link.addEventListener("mouseleave", scheduleHide);
      link.addEventListener("focus", () => show(link));
      link.addEventListener("blur", hide);
      // Following the link shows the whole entry: the preview has done its work.
      link.addEventListener("click", hide);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && current) hide();
    });
    const follow = () => current && place(current);
    window.addEventListener("scroll", follow, { passive: true });
    window.addEventListener("resize", follow, { passive: true });
  }

  /* Sphinx's search-term highlighting (sphinx_highlight.js, which needs
     doctools.js) is loaded only when a search brought the reader here: the
     search page leaves the terms in localStorage ("sphinx_highlight_terms"),
     older links carry ?highlight=. Our assets module leaves both scripts off
     every other visit to keep pages light. They sit beside this file. */
  const here = document.currentScript && document.currentScript.src;
  function searchTermsWaiting() {
    try {
      if (window.localStorage.getItem("sphinx_highlight_terms")) return true;
    } catch {
      // Storage blocked: only the address can carry terms.
    }
    return new URLSearchParams(window.location.search).has("highlight");
  }
  function loadSearchHighlighting() {
    if (!here || !searchTermsWaiting()) return;
    const load = (name) =>
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = new URL(name, here).href;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    load("doctools.js").then(() => load("sphinx_highlight.js"));
  }

  loadSearchHighlighting();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
