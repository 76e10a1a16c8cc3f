// The "All files" table: rows come from the JSON in #files-data; only the visible page is
// drawn (so 13,100 files stay responsive). Search matches file ids and words of the texts;
// the tag select keeps files with an error of that tag ("-": files without tags). Every
// text goes in with textContent, never as HTML.
(function () {
  var source = document.getElementById("files-data");
  var table = document.getElementById("files-table");
  if (!source || !table) return;
  var data = JSON.parse(source.textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var rows = data.rows.map(function (r) {
    return {r: r, text: (r[col.utt_id] + " " + r[col.ref_norm] + " " + r[col.hyp_norm]).toLowerCase(),
            tags: r[col.tags] ? r[col.tags].split(" ") : []};
  });
  var body = table.tBodies[0];
  var search = document.getElementById("files-search");
  var tagSelect = document.getElementById("files-tag");
  var count = document.getElementById("files-count");
  var pageLabel = document.getElementById("files-page");
  var prev = document.getElementById("files-prev");
  var next = document.getElementById("files-next");
  var shown = rows, page = 0, sortKey = null, ascending = true;
  var size = data.page_rows;

  function fmt(name, v) {
    if (v === null || v === undefined) return "–";
    if (name === "wer") return (100 * v).toFixed(1) + "%";
    if (name === "duration_s") return v.toFixed(1);
    return String(v);
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(shown.length / size));
    page = Math.min(page, pages - 1);
    var fragment = document.createDocumentFragment();
    shown.slice(page * size, (page + 1) * size).forEach(function (item) {
      var tr = document.createElement("tr");
      tr.dataset.utt = item.r[col.utt_id];
      data.columns.forEach(function (name, i) {
        var td = document.createElement("td");
        var value = item.r[i];
        if (name === "utt_id" && data.worst[value]) {
          var a = document.createElement("a");
          a.href = "#worst-" + data.worst[value];
          a.textContent = value;
          td.appendChild(a);
        } else {
          td.textContent = fmt(name, value);
        }
        if (typeof value === "number") td.className = "num";
        if (name === "ref_norm" || name === "hyp_norm") td.className = "text";
        tr.appendChild(td);
      });
      fragment.appendChild(tr);
    });
    body.replaceChildren(fragment);
    count.textContent = shown.length + " of " + rows.length + " files match";
    pageLabel.textContent = "page " + (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var tag = tagSelect.value;
    shown = rows.filter(function (item) {
      if (tag === "-" && item.tags.length) return false;
      if (tag && tag !== "-" && item.tags.indexOf(tag) < 0) return false;
      return words.every(function (w) { return item.text.indexOf(w) >= 0; });
    });
    if (sortKey !== null) order();
    page = 0;
    draw();
  }

  function order() {
    var i = col[sortKey];
    shown = shown.slice().sort(function (a, b) {
      var x = a.r[i], y = b.r[i], o;
      if (x === y) o = 0;
      else if (x === null) o = 1;
      else if (y === null) o = -1;
      else if (typeof x === "number") o = x - y;
      else o = String(x).localeCompare(String(y), undefined, {numeric: true});
      return ascending ? o : -o;
    });
  }

  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 120);
  });
  tagSelect.addEventListener("change", apply);
  prev.addEventListener("click", function () { page -= 1; draw(); });
  next.addEventListener("click", function () { page += 1; draw(); });
  table.querySelectorAll("thead th").forEach(function (th) {
    th.addEventListener("click", function () {
      ascending = sortKey === th.dataset.key ? !ascending : true;
      sortKey = th.dataset.key;
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      order();
      page = 0;
      draw();
    });
  });
  apply();
})();
