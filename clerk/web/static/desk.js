// chartclerk desk: the CSRF header for htmx, and the keyboard. No inline script anywhere
// (the Content-Security-Policy forbids it); everything the page needs is here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    // htmx sends these headers with every request it makes from inside <body>.
    document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": csrfToken() }));
    var start = document.getElementById("start");
    if (start) { start.focus(); }
    setUpViewer();
  });

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function setUpViewer() {
    var viewer = document.getElementById("viewer");
    var image = document.getElementById("page-image");
    if (!viewer || !image) { return; }
    var pages = parseInt(viewer.getAttribute("data-pages"), 10) || 1;
    var doc = image.getAttribute("data-doc");
    var current = parseInt(document.getElementById("page-no").textContent, 10) || 1;

    function show(n) {
      if (n < 1 || n > pages) { return; }
      current = n;
      image.src = "/documents/" + doc + "/pages/" + n + ".png?size=page";
      image.alt = "page " + n;
      document.getElementById("page-no").textContent = String(n);
      document.getElementById("zoom").href = "/documents/" + doc + "/pages/" + n + ".png?size=zoom";
      viewer.querySelectorAll("a.thumb").forEach(function (a) {
        a.classList.toggle("current", a.getAttribute("data-page") === String(n));
      });
    }
    viewer.addEventListener("click", function (event) {
      var link = event.target.closest("a.thumb");
      if (link) { event.preventDefault(); show(parseInt(link.getAttribute("data-page"), 10)); }
    });
    document.getElementById("prev-page").addEventListener("click", function (e) { e.preventDefault(); show(current - 1); });
    document.getElementById("next-page").addEventListener("click", function (e) { e.preventDefault(); show(current + 1); });
    image.addEventListener("click", function () { image.classList.toggle("zoomed"); });
    viewer.showPage = show;
    viewer.currentPage = function () { return current; };
  }

  function typing(target) {
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var review = document.querySelector('[data-keys="review"]');
    var viewer = document.getElementById("viewer");
    var key = event.key;
    if (review && key >= "1" && key <= "5") {
      var form = review.querySelector('form.assign[data-key="' + key + '"]');
      var button = form && form.querySelector("button");
      if (button && !button.disabled) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (review && key === "/") { event.preventDefault(); document.getElementById("q").focus(); return; }
    if (review && key === "r") { event.preventDefault(); document.getElementById("reject-reason").focus(); return; }
    if (review && key === "n") {
      event.preventDefault();
      window.location.href = "/review/next?skip=" + encodeURIComponent(review.getAttribute("data-doc"));
      return;
    }
    if (viewer && viewer.showPage && (key === "]" || key === "ArrowRight")) { viewer.showPage(viewer.currentPage() + 1); return; }
    if (viewer && viewer.showPage && (key === "[" || key === "ArrowLeft")) { viewer.showPage(viewer.currentPage() - 1); return; }
    if (viewer && key === "z") { var img = document.getElementById("page-image"); if (img) { img.classList.toggle("zoomed"); } }
  });
})();
