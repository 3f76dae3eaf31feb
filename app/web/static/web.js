// sohoa web pages: a little progressive enhancement; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The zoom link shows the sharper image in place (scrollable) instead of leaving the page.
  const view = document.getElementById("page-view");
  const image = document.getElementById("page-image");
  const link = document.getElementById("zoom-link");
  if (view && image && link) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const zoomed = view.classList.toggle("zoomed");
      if (zoomed && image.dataset.zoom) image.src = image.dataset.zoom;
      link.setAttribute("aria-pressed", zoomed ? "true" : "false");
    });
  }
});
