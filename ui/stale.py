"""Results greyed while the inputs above them are changed and not yet run.

A page whose inputs sit in a form (覆盖分析) keeps its figures until the form is submitted, so after a change
the old figures would read as the answer to the new inputs.  One small script (loaded from this server, like
:mod:`ui.frontend_words`) watches the form whose submit button is the page's run button: when any input differs
from what was last run, everything below the form is greyed and a note says the figures are for the inputs last
run; pressing the button (or changing the inputs back) clears it.
"""

from __future__ import annotations

import json

import streamlit as st

_SCRIPT = """<script>
(function () {
  const doc = window.parent.document, RUN = %(run)s, NOTE = %(note)s;
  if (!doc.getElementById("onemap-stale-style")) {
    const css = doc.createElement("style");
    css.id = "onemap-stale-style";
    css.textContent = ".onemap-stale{opacity:.4;filter:grayscale(.7);transition:opacity .2s}" +
      ".onemap-stale-note{background:#fff4d6;border-left:4px solid #e0a800;padding:.5rem .8rem;" +
      "margin:.25rem 0 .75rem;border-radius:4px;color:#5c4400}";
    doc.head.appendChild(css);
  }
  const watch = doc.__onemapStale = doc.__onemapStale || {};
  watch.run = RUN; watch.note = NOTE;
  if (watch.timer) return;
  function runForm() {
    for (const f of doc.querySelectorAll("[data-testid=stMain] [data-testid=stForm]")) {
      for (const b of f.querySelectorAll("button")) { if (b.innerText.trim() === watch.run) return [f, b]; }
    }
    return [null, null];
  }
  function inputs(f) {
    const values = [...f.querySelectorAll("input")].map(i => i.type === "radio" || i.type === "checkbox"
      ? String(i.checked) : i.value);
    return JSON.stringify([values, [...f.querySelectorAll("[data-baseweb=select]")].map(s => s.innerText)]);
  }
  function show(f, stale) {
    const wrap = f.closest("[data-testid=stLayoutWrapper]") || f;
    let el = wrap.nextElementSibling, note = doc.querySelector(".onemap-stale-note");
    for (; el; el = el.nextElementSibling) {
      if (el.classList.contains("onemap-stale-note")) continue;
      el.classList.toggle("onemap-stale", stale);
    }
    if (stale && !note) {
      note = doc.createElement("div");
      note.className = "onemap-stale-note";
      note.setAttribute("role", "status");
      wrap.after(note);
    }
    if (note) { note.textContent = watch.note; note.style.display = stale ? "" : "none"; }
  }
  watch.timer = setInterval(function () {
    const [f] = runForm();
    if (!f) {  // another page, or the form being drawn again: nothing is stale
      watch.form = null;
      doc.querySelectorAll(".onemap-stale").forEach(el => el.classList.remove("onemap-stale"));
      doc.querySelectorAll(".onemap-stale-note").forEach(el => { el.style.display = "none"; });
      return;
    }
    const count = f.querySelectorAll("input, [data-baseweb=select]").length;
    // a new form, the page in another language, or a form still being drawn: what it shows, once it has stayed
    // the same for a tick with no script running, is what was run (a half-drawn form is not the baseline)
    if (f !== watch.form || watch.lastRun !== watch.run || watch.count !== count) {
      watch.form = f; watch.last = null; watch.seen = inputs(f); watch.lastRun = watch.run; watch.count = count;
      watch.hooked = watch.hooked || new WeakSet();
      if (!watch.hooked.has(f)) {
        watch.hooked.add(f);
        const ran = () => { watch.last = inputs(f); show(f, false); };
        f.addEventListener("click", (e) => { if (e.target.closest("button") && e.target.closest("button").innerText
          .trim() === watch.run) ran(); }, true);
        f.addEventListener("keydown", (e) => { if (e.key === "Enter") ran(); }, true);
      }
    }
    if (watch.last === null) {
      const now = inputs(f), running = doc.querySelector("[data-testid=stStatusWidget]");
      if (running || now !== watch.seen) { watch.seen = now; show(f, false); return; }
      watch.last = now;
    }
    show(f, inputs(f) !== watch.last);
  }, 300);
})();
</script>"""


def grey_when_changed(run_label: str, note: str) -> None:
    """Grey what lies below the form submitted by the button ``run_label`` while its inputs differ from the
    inputs last run, with ``note`` above it."""
    words = {"run": json.dumps(run_label, ensure_ascii=False), "note": json.dumps(note, ensure_ascii=False)}
    st.iframe(_SCRIPT % words, height=1)  # 1 px: a frame of no height never runs its script


__all__ = ["grey_when_changed"]
