// Organ fields (app/web/templates/organ_field.html): an input whose datalist is filled, as the
// user types, with the organs the registry finds (GET /organs?q=…, at most 20). Without JS the
// field takes an OrganId or an organ's exact name, checked on the server all the same.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll("input[data-organ-search]")) {
    const list = document.getElementById(field.getAttribute("list"));
    if (!list) continue;
    let timer = 0;
    let asked = "";
    const fill = async () => {
      const q = field.value.trim();
      if (q.length < 2 || q === asked) return;
      asked = q;
      const response = await fetch(`/organs?q=${encodeURIComponent(q)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok || q !== field.value.trim()) return;
      const found = await response.json();
      list.replaceChildren(
        ...found.organs.map((o) => {
          const option = document.createElement("option");
          option.value = o.id;
          option.textContent = o.label;
          return option;
        }),
      );
    };
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(fill, 150);
    });
  }
});
