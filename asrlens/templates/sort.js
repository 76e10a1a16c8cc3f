// Click a header of any table.sortable to sort its rows; click again to reverse.
// Numeric-aware: "1,234", "26.1%" and "3.2 s" sort as numbers; a cell's data-sort overrides.
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = table.querySelectorAll("thead th");
  headers.forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[column];
        var text = cell ? (cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim()) : "";
        var number = parseFloat(text.replace(/,/g, ""));
        return isNaN(number) ? text.toLowerCase() : number;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), order;
        if (typeof x === "number" && typeof y === "number") order = x - y;
        else if (typeof x === "number") order = -1;
        else if (typeof y === "number") order = 1;
        else order = x.localeCompare(y, undefined, { numeric: true });
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
