/* The sign-in page: exchange username and password for a token, keep it, go to the page for the role. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("geogrid-config").textContent || "{}");
  const labels = config.labels || {};  /* the catalogue of maps/i18n.py, served with the page */
  document.querySelectorAll("[data-label]").forEach(function (node) { node.textContent = labels[node.dataset.label]; });
  const other = document.getElementById("switch-lang");
  other.textContent = labels.other;
  other.href = "/maps/login?lang=" + (config.lang === "en" ? "zh" : "en") + "&next=" + encodeURIComponent(config.next);
  document.getElementById("login-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = new URLSearchParams();
    form.set("username", document.getElementById("username").value);
    form.set("password", document.getElementById("password").value);
    /* the server keeps the token in an HttpOnly cookie: no script (ours or an injected one) can read it */
    const response = await fetch("/maps/session", { method: "POST", body: form, credentials: "same-origin" });
    if (!response.ok) {
      const wait = response.headers.get("Retry-After");
      document.getElementById("login-error").textContent =
        response.status === 429 ? labels.wait.replace("{s}", wait || "30") : labels.failed;
      return;
    }
    const next = config.next && config.next.startsWith("/") && !config.next.startsWith("//") ? config.next : "/maps/";
    /* back where the user was going, in the language of this page (set once, whatever next already said) */
    const target = new URL(next, window.location.origin);
    target.searchParams.set("lang", config.lang);
    window.location.href = target.pathname + target.search + target.hash;
  });
})();
