// Tables marked "sortable": each column header becomes a button that sorts the rows by that column,
// ascending first, the other way on the next click. A cell's data-sort holds the number to sort by
// (rates, hours); otherwise its text is compared as Chinese. A row marked "total" stays last; a header
// marked data-nosort stays a plain header.
(function () {
  function key(row, column) {
    const cell = row.cells[column];
    if (cell.dataset.sort !== undefined) return Number(cell.dataset.sort);
    const number = Number(cell.textContent.trim());
    return cell.textContent.trim() !== "" && !Number.isNaN(number) ? number : cell.textContent.trim();
  }

  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), "zh-CN");
  }

  function sortBy(table, header, column) {
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const total = rows.filter((row) => row.classList.contains("total"));
    const sorted = rows.filter((row) => !row.classList.contains("total"))
      .map((row, index) => ({ row, index, value: key(row, column) }))
      .sort((x, y) => (ascending ? 1 : -1) * compare(x.value, y.value) || x.index - y.index);
    for (const { row } of sorted) body.appendChild(row);
    for (const row of total) body.appendChild(row);
  }

  // Also called on rows a page fetched again (the inbox's), so it leaves a table it already enhanced alone.
  function enhance(root) {
    for (const table of root.querySelectorAll("table.sortable:not([data-sortable])")) {
      table.dataset.sortable = "";
      Array.from(table.tHead.rows[0].cells).forEach((header, column) => {
        if (header.hasAttribute("data-nosort")) return;  // e.g. a column of checkboxes
        const button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.title = "按此列排序";
        button.append(...header.childNodes);
        header.appendChild(button);
        button.addEventListener("click", () => sortBy(table, header, column));
      });
    }
  }

  enhance(document);
  window.gongwenSortable = enhance;
})();
