// The live keyword preview: as keywords are typed, ask /preview.json (debounced) and show what
// they would have selected over the last 7 days. Text goes in with textContent, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("preview");
  var field = document.getElementById("keywords");
  if (!box || !field || !window.fetch) { return; }
  var WAIT_MS = 400;
  var timer = null;
  var asked = 0;
  var note = document.getElementById("preview-note");
  if (note) { note.textContent = "What these keywords would have picked from the papers of the last 7 days shows below as you type."; }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  function show(found) {
    var keep = note;
    box.replaceChildren(keep);
    if (!found.keywords.length) { return; }
    box.appendChild(element("h2", "", "These keywords over the last 7 days"));
    var total = element("p", "preview-total");
    total.appendChild(element("strong", "", String(found.total)));
    total.appendChild(document.createTextNode(" of " + found.archived + " paper" + (found.archived === 1 ? "" : "s") + " would have been selected."));
    box.appendChild(total);
    var days = element("ol", "preview-days");
    found.days.forEach(function (day) {
      var item = element("li");
      item.appendChild(element("span", "day", day.label));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", "count", String(day.count)));
      item.appendChild(document.createTextNode(" "));
      var bar = element("span", "bar");
      bar.style.width = day.bar + "px";
      item.appendChild(bar);
      days.appendChild(item);
    });
    box.appendChild(days);
    if (!found.papers.length) { return; }
    var list = element("ul", "preview-papers");
    found.papers.forEach(function (paper) {
      var item = element("li");
      var link = element("a", "", paper.title);
      if (/^https?:\/\//.test(paper.url)) { link.href = paper.url; }
      item.appendChild(link);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", "muted", paper.day + " · " + paper.why));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function ask() {
    var number = ++asked;
    fetch("/preview.json?keywords=" + encodeURIComponent(field.value), { headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (found) { if (found && number === asked) { show(found); } })
      .catch(function () { /* the Preview button still works */ });
  }

  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, WAIT_MS);
  });
  if (field.value.trim() && !box.querySelector(".preview-total")) { ask(); }
}());
