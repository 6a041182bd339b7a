"use strict";
(() => {
  const table = document.getElementById("targets");
  if (table) {
    const body = table.tBodies[0];
    const rows = () => Array.from(body.querySelectorAll("tr.row"));
    const detailOf = (row) => document.getElementById("d-" + row.dataset.key);
    const filter = document.getElementById("filter");
    const onlyFailing = document.getElementById("only-failing");
    const shown = document.getElementById("shown");

    const applyFilter = () => {
      const query = filter.value.trim().toLowerCase();
      let visible = 0;
      for (const row of rows()) {
        const matches = (!query || row.dataset.text.includes(query)) &&
          (!onlyFailing.checked || row.dataset.failed === "1");
        row.hidden = !matches;
        const detail = detailOf(row);
        if (detail) detail.hidden = !matches || row.querySelector("button.toggle").getAttribute("aria-expanded") !== "true";
        if (matches) visible += 1;
      }
      shown.textContent = visible + " of " + rows().length + " shown";
    };
    filter.addEventListener("input", applyFilter);
    onlyFailing.addEventListener("change", applyFilter);

    const sortBy = (header) => {
      const column = header.dataset.col;
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      for (const other of table.tHead.querySelectorAll("th")) other.removeAttribute("aria-sort");
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const keyed = rows().map((row) => [row.querySelector("td[data-col=" + column + "]").dataset.sort, row]);
      const numeric = header.dataset.type === "number";
      keyed.sort((a, b) => {
        let order;
        if (numeric) order = parseFloat(a[0]) - parseFloat(b[0]);
        else order = a[0].localeCompare(b[0]);
        if (Number.isNaN(order)) order = 0;
        return ascending ? order : -order;
      });
      for (const [, row] of keyed) {
        const detail = detailOf(row);
        body.appendChild(row);
        if (detail) body.appendChild(detail);
      }
    };
    for (const header of table.tHead.querySelectorAll("th[data-col]")) {
      header.querySelector("button").addEventListener("click", () => sortBy(header));
    }

    for (const toggle of body.querySelectorAll("button.toggle")) {
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        document.getElementById(toggle.getAttribute("aria-controls")).hidden = !open;
      });
    }
    applyFilter();
  }

  const copied = (button, text) => {
    button.textContent = text;
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  };
  const fallbackCopy = (button, source) => {
    try {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copied(button, document.execCommand("copy") ? "Copied" : "Selected");
    } catch (_error) {
      copied(button, "Select and copy");
    }
  };
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent).then(
          () => copied(button, "Copied"), () => fallbackCopy(button, source));
      } else {
        fallbackCopy(button, source);
      }
    });
  }
})();
