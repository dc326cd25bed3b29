/* A map page: the bar with who is signed in, the language switch and sign-out. */
(function () {
  "use strict";
  const g = window.geogrid;
  const LABELS = { zh: { sign_out: "退出", other: "English" }, en: { sign_out: "Sign out", other: "中文" } };
  g.addBasemap(g.map());
  document.getElementById("who").textContent = g.config.user.username + " · " + g.config.user.scope;
  const other = document.getElementById("switch-lang");
  other.textContent = g.t(LABELS, "other");
  other.href = "?lang=" + (g.config.lang === "en" ? "zh" : "en");
  const out = document.getElementById("sign-out");
  out.textContent = g.t(LABELS, "sign_out");
  out.addEventListener("click", g.signOut);
  document.getElementById("title").textContent = document.title;
})();
