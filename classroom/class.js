// Sorting the matrix: each heading becomes a button; a second click
// reverses the order. Without script the rows stay in roster order.
(function () {
  "use strict";
  var table = document.querySelector("table.matrix");
  if (!table) { return; }
  document.documentElement.classList.add("js");
  var body = table.tBodies[0];
  var heads = table.querySelectorAll("th[data-sort], th[data-col]");
  Array.prototype.forEach.call(heads, function (th) {
    var button = document.createElement("button");
    button.type = "button";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(th); });
  });
  // A row's key for a heading: a data attribute of the row, or the rank
  // of its cell in a rule's column (failed first).
  function key(row, th) {
    if (th.dataset.col) {
      var cell = row.cells[Number(th.dataset.col)];
      return cell && cell.dataset.o ? Number(cell.dataset.o) : 9;
    }
    var v = row.dataset[th.dataset.sort] || "";
    return th.dataset.type === "num" ? Number(v) : v.toLowerCase();
  }
  function sortBy(th) {
    var up = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, th), y = key(b, th);
      var c = typeof x === "number" ? x - y : x.localeCompare(y);
      if (!up) { c = -c; }
      return c || Number(a.dataset.index) - Number(b.dataset.index);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
})();
