"""Each person's time zone: chosen on their account page, else their browser's (a cookie set
by static/js/timezone.js), else the site's; every time a page shows is in it."""

from datetime import UTC, datetime

from django.urls import reverse
from django.utils import timezone

from accounts.timezones import BROWSER_COOKIE
from conftest import World, client_for


def shown_zone(client) -> str:
    """The zone a page of the site is rendered in (the security page says which)."""
    return client.get(reverse("accounts:security")).content.decode()


def test_the_browsers_zone_applies_until_the_person_chooses_one(world: World):
    client = client_for(world.a.viewer)
    client.cookies[BROWSER_COOKIE] = "Europe/Paris"
    assert 'this browser\'s time zone (<strong translate="no">Europe/Paris</strong>)' in shown_zone(client)
    response = client.post(reverse("accounts:time-zone"), {"time_zone": "America/Montreal"})
    assert response.status_code == 302
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.time_zone == "America/Montreal"
    assert '<strong translate="no">America/Montreal</strong>' in shown_zone(client)
    client.post(reverse("accounts:time-zone"), {"time_zone": ""})  # back to the browser's
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.time_zone == ""


def test_an_unknown_zone_is_refused_with_a_readable_error(world: World):
    client = client_for(world.a.viewer)
    response = client.post(reverse("accounts:time-zone"), {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    world.a.viewer.refresh_from_db()
    assert world.a.viewer.time_zone == ""


def test_a_cookie_that_is_not_a_zone_is_ignored(world: World):
    client = client_for(world.a.viewer)
    client.cookies[BROWSER_COOKIE] = "../../etc/passwd"
    assert "the site's time zone" in shown_zone(client)


def test_pages_show_times_in_the_persons_zone(world: World, rf):
    """The middleware activates the zone for the request: Django renders every time in it."""
    from accounts.timezones import TimeZoneMiddleware

    world.a.viewer.time_zone = "Asia/Tokyo"
    seen: list[str] = []

    def view(request):
        seen.append(timezone.localtime(datetime(2026, 12, 2, 12, 0, tzinfo=UTC)).strftime("%H:%M %Z"))
        return None

    request = rf.get("/")
    request.user = world.a.viewer
    TimeZoneMiddleware(view)(request)
    assert seen == ["21:00 JST"]
    assert timezone.get_current_timezone_name() == "UTC"  # not left active for the next request


def test_a_day_on_the_timeline_and_events_is_the_persons_day(world: World, rf):
    from datetime import date

    from accounts.timezones import TimeZoneMiddleware
    from recordings.selectors import day_bounds

    world.a.viewer.time_zone = "Asia/Tokyo"
    bounds: list[tuple[datetime, datetime]] = []

    def view(request):
        bounds.append(day_bounds(date(2026, 12, 2)))

    request = rf.get("/")
    request.user = world.a.viewer
    TimeZoneMiddleware(view)(request)
    start, end = bounds[0]
    assert start.astimezone(UTC) == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # midnight in Tokyo
    assert (end - start).total_seconds() == 24 * 3600
