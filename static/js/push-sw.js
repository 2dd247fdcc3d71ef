// The Web Push service worker, served at /sw.js (notifications/views.py service_worker).
// A message carries only the camera's name, the time of the motion and the clip's address
// (notifications/services.py push_delivery_get); it arrives encrypted for this browser.
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  const camera = typeof data.camera === "string" ? data.camera : "";
  const when = data.time ? new Date(data.time) : null;
  const title = camera ? "Motion: " + camera : "Motion";
  const body = when && !isNaN(when) ? when.toLocaleString() : "";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: body,
      tag: "nvr-motion-" + camera, // a newer clip of the same camera replaces the older notice
      data: { url: data.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // Only ever open a page of this site, whatever the message said.
  let target = new URL("/", self.location.origin);
  try {
    const wanted = new URL(event.notification.data.url, self.location.origin);
    if (wanted.origin === self.location.origin) target = wanted;
  } catch (error) {
    // keep the home page
  }
  event.waitUntil(self.clients.openWindow(target.href));
});
