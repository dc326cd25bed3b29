/* The sign-in page: exchange username and password for a token, keep it, go to the page for the role. */
(function () {
  "use strict";
  const config = window.GEOGRID_CONFIG;
  const LABELS = {
    zh: { title: "登录 geogrid", username: "用户名", password: "密码", sign_in: "登录", other: "English",
          failed: "用户名或密码错误" },
    en: { title: "Sign in to geogrid", username: "Username", password: "Password", sign_in: "Sign in", other: "中文",
          failed: "Incorrect username or password" },
  };
  const labels = LABELS[config.lang] || LABELS.zh;
  document.querySelectorAll("[data-label]").forEach(function (node) { node.textContent = labels[node.dataset.label]; });
  const other = document.getElementById("switch-lang");
  other.textContent = labels.other;
  other.href = "/maps/login?lang=" + (config.lang === "en" ? "zh" : "en") + "&next=" + encodeURIComponent(config.next);
  document.getElementById("login-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const form = new URLSearchParams();
    form.set("username", document.getElementById("username").value);
    form.set("password", document.getElementById("password").value);
    const response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
    if (!response.ok) {
      document.getElementById("login-error").textContent = labels.failed;
      return;
    }
    const token = (await response.json()).access_token;
    window.localStorage.setItem("geogrid_token", token);
    document.cookie = "geogrid_token=" + token + "; Path=/; SameSite=Strict";
    const next = config.next && config.next.startsWith("/") && !config.next.startsWith("//") ? config.next : "/maps/";
    window.location.href = next + (next.includes("?") ? "&" : "?") + "lang=" + config.lang;
  });
})();
