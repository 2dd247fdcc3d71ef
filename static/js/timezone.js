// Tells the site this browser's time zone (a cookie), so that pages show times in it for
// people who have not chosen one (accounts/timezones.py).
(function () {
  "use strict";
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return; }
  if (!zone || document.cookie.indexOf("nvr_tz=" + encodeURIComponent(zone)) !== -1) { return; }
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "nvr_tz=" + encodeURIComponent(zone) + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
