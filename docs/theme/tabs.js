// Language tabs: a page writes
//   <div class="ycm-tabs"><div data-tab="C"> ...code... </div><div data-tab="Python"> ... </div></div>
// and this turns each such group into a row of buttons with one panel shown. Choosing a
// language switches every group on the page and is remembered (localStorage) for the next.
(function () {
  "use strict";
  var KEY = "ycm-docs-tab";
  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function remember(label) {
    try { window.localStorage.setItem(KEY, label); } catch (e) { /* private mode */ }
  }
  function select(group, label) {
    var buttons = group.querySelectorAll(":scope > .ycm-tab-bar > button");
    var panels = group.querySelectorAll(":scope > [data-tab]");
    var found = false;
    panels.forEach(function (p) { if (p.dataset.tab === label) found = true; });
    if (!found) return false;
    buttons.forEach(function (b) {
      var on = b.dataset.tab === label;
      b.classList.toggle("active", on);
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    panels.forEach(function (p) { p.hidden = p.dataset.tab !== label; });
    return true;
  }
  function selectEverywhere(label) {
    document.querySelectorAll(".ycm-tabs").forEach(function (g) { select(g, label); });
  }
  document.querySelectorAll(".ycm-tabs").forEach(function (group) {
    var bar = document.createElement("div");
    bar.className = "ycm-tab-bar";
    bar.setAttribute("role", "tablist");
    var panels = group.querySelectorAll(":scope > [data-tab]");
    panels.forEach(function (panel) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = panel.dataset.tab;
      b.dataset.tab = panel.dataset.tab;
      b.setAttribute("role", "tab");
      b.addEventListener("click", function () {
        remember(panel.dataset.tab);
        selectEverywhere(panel.dataset.tab);
      });
      bar.appendChild(b);
    });
    group.insertBefore(bar, group.firstChild);
    var want = remembered();
    if (!want || !select(group, want)) select(group, panels[0].dataset.tab);
  });
})();
