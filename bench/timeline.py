"""Timeline benchmark (PostgreSQL only): the recordings list API at one million recordings.

    .venv/bin/python bench/timeline.py [--requests 300] [--page-size 50] [--deep-page 100] [--rebuild]

The database is ``--app-url`` / ``--owner-url`` (else ``DATABASE_URL`` /
``DATABASE_OWNER_URL``, else ``nvr_bench_timeline`` on 127.0.0.1 as ``nvr_app``
/ ``nvr_owner``); its name must contain "bench", since the bench drops and fills
it. The owner creates it and runs ``manage.py migrate`` (the project's, so the
app role gets RLS as in production). The data is kept between runs; ``--rebuild``
makes it again (about a minute). Inserted by the owner with ``INSERT ... SELECT
generate_series`` (RLS is forced on the owner too: with ``nvr.unscoped = on``),
then ``VACUUM ANALYZE``: ``--households`` (1000) households with one user and
1-3 cameras each, ``--recordings`` (1,000,000) recordings over ``--days`` (30) in
arrival order, 20% with motion events; household #1 has ``--deep`` (10,000) on
one camera.

Measured in this process through Django's test ``Client`` (``force_login``, all
middleware): the first page and page ``--deep-page`` (reached by following
``next``) of ``/api/v1/recordings/?camera=...&page_size=N``, and the first page of
100 other households in turn; queries per request counted by kind
(``CaptureQueriesContext``) for page sizes 10, 50, 100. The baseline: the list's
own SQL as captured, run with psycopg as the app role in the household's scope
(RLS) and as the owner with RLS off (``FORCE`` lifted for the run, then put back;
``row_security = off`` makes any policy still applying an error), interleaved.
``EXPLAIN (ANALYZE, BUFFERS)`` of both pages in both settings. Planner settings
come from the server or ``PGOPTIONS`` (e.g. ``-c random_page_cost=1.1``) and are
reported. One JSON line on stdout (see ``bench/README.md``), progress on stderr.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_APP_URL = "postgresql://nvr_app@127.0.0.1:5432/nvr_bench_timeline"
DEFAULT_OWNER_URL = "postgresql://nvr_owner@127.0.0.1:5432/nvr_bench_timeline"
LIST_URL = "/api/v1/recordings/"
MIXED_HOUSEHOLDS = 100
GOALS = {"p99_ms": 20.0, "queries_per_request": 4, "list_query_ratio": 1.10, "request_vs_bare_view": 1.5}
EMAIL = "tlbench-{n}@bench.invalid"
MARK = "tlbench household "

_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
        "n": len(ms),
    }


# --- Database and data ------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(owner_url: str, *, rebuild: bool) -> bool:
    """Create the bench database as the owner (dropping it first with ``rebuild``); True if it is new."""
    name = database_name(owner_url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"Unexpected database name {name!r}.")
    with psycopg.connect(with_database(owner_url, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if exists and rebuild:
            progress(f"dropping database {name}")
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = False
        if not exists:
            progress(f"creating database {name}")
            admin.execute(f"CREATE DATABASE {name}")
    return not exists


@contextmanager
def exclusive_run(owner_url: str) -> Iterator[None]:
    """One run at a time per bench database: another would force RLS again under this one's baseline."""
    name = database_name(owner_url)
    # On the maintenance database: a --rebuild drops the bench's own.
    with psycopg.connect(with_database(owner_url, "postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"bench/timeline:{name}",)).fetchone()
        if not row or not row[0]:
            raise SystemExit(f"Another bench/timeline.py is running on {name}: wait for it to finish.")
        yield


def migrate(app_url: str, owner_url: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": app_url,
        "DATABASE_OWNER_URL": owner_url,
        "DJANGO_SETTINGS_MODULE": "nvr.settings",
    }
    env.pop("NVR_REQUIRE_SERVICES", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}")


def existing_data(owner_url: str) -> tuple[int, int]:
    """(bench households, recordings) already in the database."""
    with psycopg.connect(owner_url) as conn, conn.transaction():
        conn.execute("SELECT set_config('nvr.unscoped', 'on', true)")
        row = conn.execute(
            "SELECT (SELECT count(*) FROM accounts_account WHERE name LIKE %s), "
            "(SELECT count(*) FROM recordings_recording)",
            (MARK + "%",),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def generate(owner_url: str, *, households: int, recordings: int, deep: int, days: int) -> None:
    """Fill the bench database (see the module's docstring); one transaction, then VACUUM ANALYZE."""
    if not 0 < deep < recordings or households < 2:
        raise SystemExit("Need --deep < --recordings and at least 2 households.")
    window_s = days * 86400
    # One transaction: all or nothing.
    with psycopg.connect(owner_url) as conn, conn.transaction():
        # RLS is forced on the owner too: the inserts run unscoped, as system jobs do.
        conn.execute("SELECT set_config('nvr.unscoped', 'on', true)")
        conn.execute(
            "CREATE TEMP TABLE b_acc ON COMMIT DROP AS "
            "SELECT n, gen_random_uuid() AS account_id, gen_random_uuid() AS user_id "
            "FROM generate_series(1, %s) n",
            (households,),
        )
        progress(f"households: {households}")
        conn.execute(
            "INSERT INTO accounts_user (password, is_superuser, id, email, full_name, is_active, is_staff, "
            "date_joined, email_verified_at) "
            "SELECT '!', false, user_id, replace(%s, '{n}', n::text), 'Bench user ' || n, true, false, "
            "now(), now() "
            "FROM b_acc",
            (EMAIL,),
        )
        conn.execute(
            "INSERT INTO accounts_account (id, name, created_at, storage_quota_bytes, require_second_factor) "
            "SELECT account_id, %s || n, now(), 1099511627776, false FROM b_acc",
            (MARK,),
        )
        conn.execute(
            "INSERT INTO accounts_membership (id, role, created_at, last_active_at, account_id, user_id, "
            "camera_access_limited) SELECT gen_random_uuid(), 'owner', now(), now(), account_id, user_id, false "
            "FROM b_acc"
        )
        conn.execute(
            "CREATE TEMP TABLE b_cam ON COMMIT DROP AS "
            "SELECT a.n, k, a.account_id, gen_random_uuid() AS camera_id "
            "FROM b_acc a, generate_series(1, 1 + a.n % 3) k"
        )
        conn.execute(
            "INSERT INTO devices_camera (id, name, kind, source_url_encrypted, enabled, status, status_message, "
            "live_fps, created_at, account_id) "
            "SELECT camera_id, 'Camera ' || k, 'push', '', true, 'offline', '', 0, now(), account_id FROM b_cam"
        )
        conn.execute(
            "INSERT INTO recordings_camerarecordingsettings (camera_id, account_id, retention_days, "
            "motion_sensitivity, motion_min_area_percent) SELECT camera_id, account_id, 30, 0.5, 0.2 FROM b_cam"
        )
        # Every camera but the deep one, numbered 0..M-1; recording i goes to camera i % M, slot i / M.
        conn.execute(
            "CREATE TEMP TABLE b_other ON COMMIT DROP AS SELECT (row_number() OVER (ORDER BY n, k) - 1)::int AS m, "
            "account_id, camera_id FROM b_cam WHERE NOT (n = 1 AND k = 1)"
        )
        others = conn.execute("SELECT count(*) FROM b_other").fetchone()
        assert others is not None
        cameras = int(others[0])
        rest = recordings - deep
        slots = -(-rest // cameras)
        progress(f"cameras: {cameras + 1}; recordings: {rest} over them and {deep} on the deep camera")
        conn.execute(
            "CREATE TEMP TABLE b_rec ON COMMIT DROP AS "
            "SELECT i, o.account_id, o.camera_id, "
            "now() - make_interval(secs => (s.i / %(m)s + 1) * %(step)s + s.i %% 7) AS ts "
            "FROM generate_series(0, %(rest)s - 1) s(i) JOIN b_other o ON o.m = s.i %% %(m)s "
            "UNION ALL "
            "SELECT %(rest)s + j, c.account_id, c.camera_id, "
            "now() - make_interval(secs => (j + 1) * %(deep_step)s) "
            "FROM generate_series(0, %(deep)s - 1) j, b_cam c WHERE c.n = 1 AND c.k = 1",
            {
                "m": cameras,
                "step": window_s / slots,
                "rest": rest,
                "deep": deep,
                "deep_step": window_s / deep,
            },
        )
        progress("inserting recordings (in time order)")
        conn.execute(
            "INSERT INTO recordings_recording (id, started_at, ended_at, status, failure_reason, size_bytes, "
            "sha256, stored_bytes, idempotency_key, duration_s, fps, width, height, codec, motion_score, has_motion, "
            "has_thumbnail, created_at, processed_at, account_id, camera_id) "
            "SELECT gen_random_uuid(), ts, ts + make_interval(secs => 8 + i % 53), st, "
            "CASE WHEN st = 'failed' THEN 'The clip could not be decoded.' ELSE '' END, "
            "1500000 + i % 900000, md5(i::text) || md5((i + 1)::text), 1500512 + i % 900000, '', "
            "CASE WHEN st = 'ready' THEN 8 + i % 53 END, CASE WHEN st = 'ready' THEN 10 END, "
            "CASE WHEN st = 'ready' THEN 640 END, CASE WHEN st = 'ready' THEN 360 END, "
            "CASE WHEN st = 'ready' THEN 'h264' ELSE '' END, "
            "CASE WHEN moving AND st = 'ready' THEN 0.2 + (i % 80) / 100.0 ELSE 0 END, "
            "moving AND st = 'ready', st = 'ready', ts + interval '10 seconds', "
            "CASE WHEN st IN ('ready', 'failed') THEN ts + interval '20 seconds' END, account_id, camera_id "
            "FROM (SELECT *, CASE WHEN i % 211 = 0 THEN 'failed' WHEN i % 997 = 1 THEN 'processing' "
            "ELSE 'ready' END AS st, abs(hashtext(i::text)) % 5 = 0 AS moving FROM b_rec) r ORDER BY ts"
        )
        progress("inserting motion events")
        conn.execute(
            "INSERT INTO recordings_motionevent (id, started_at, ended_at, score, account_id, recording_id) "
            "SELECT gen_random_uuid(), r.started_at + make_interval(secs => 3 * e - 2), "
            "r.started_at + make_interval(secs => 3 * e), r.motion_score, r.account_id, r.id "
            "FROM recordings_recording r, generate_series(1, 1 + (r.size_bytes % 2)::int) e WHERE r.has_motion "
            "ORDER BY r.started_at"
        )
    with psycopg.connect(owner_url, autocommit=True) as conn:
        progress("VACUUM ANALYZE")
        for table in (
            "accounts_user",
            "accounts_account",
            "accounts_membership",
            "devices_camera",
            "recordings_recording",
            "recordings_motionevent",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")


# --- The API, in process ---------------------------------------------------------------


def statement_kind(sql: str) -> str:
    from nvr.testing import statement_kind as kind  # after django.setup()

    return kind(sql)


def setup_django(app_url: str, owner_url: str) -> None:
    os.environ["DATABASE_URL"] = app_url
    os.environ["DATABASE_OWNER_URL"] = owner_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "nvr.settings"
    os.environ["DEBUG"] = "0"  # no query log kept by Django itself; CaptureQueriesContext turns it on when counting
    os.environ.pop("NVR_REQUIRE_SERVICES", None)
    import django

    django.setup()


def bench_households() -> dict[str, Any]:
    """The deep household (#1) with its deep camera, and the first camera of 100 other households."""
    from accounts.models import Membership
    from accounts.tenancy import unscoped
    from devices.models import Camera

    with unscoped("bench/timeline.py: pick the benchmark's households"):
        bench = Membership.objects.filter(account__name__startswith=MARK).select_related("user")
        owners = {m.account_id: m.user for m in bench}
        cameras = Camera.objects.filter(account__name__startswith=MARK, name="Camera 1").select_related("account")
        deep = next(c for c in cameras if c.account.name == f"{MARK}1")
        others = [c for c in cameras.order_by("account_id") if c.pk != deep.pk][:MIXED_HOUSEHOLDS]
        deep_count = deep.recordings.count()
    mixed = [(owners[c.account_id], c) for c in others]
    return {"deep_user": owners[deep.account_id], "deep_camera": deep, "deep_count": deep_count, "mixed": mixed}


def signed_in(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def get_json(client: Any, url: str) -> dict[str, Any]:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    data: dict[str, Any] = response.json()
    return data


def first_url(camera_id: Any, page_size: int) -> str:
    return f"{LIST_URL}?camera={camera_id}&page_size={page_size}"


def follow(client: Any, url: str, pages: int) -> tuple[str, list[str]]:
    """The URL of page ``pages`` (1 = ``url`` itself), and the ids seen on the way."""
    seen: list[str] = []
    for page in range(1, pages):
        data = get_json(client, url)
        seen += [str(r["id"]) for r in data["results"]]
        if not data.get("next"):
            raise SystemExit(f"Only {page} pages: no page {pages} to measure (--deep-page).")
        url = data["next"]
    return url, seen


def time_requests(calls: Sequence[Callable[[], Any]], *, warmup: int, requests: int) -> list[float]:
    from django.db import reset_queries

    for n in range(warmup):
        calls[n % len(calls)]()
    timings: list[float] = []
    for n in range(requests):
        call = calls[n % len(calls)]
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
        reset_queries()
    return timings


def captured(client: Any, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return [q["sql"] for q in context.captured_queries]


def query_counts(sqls: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {"total": len(sqls)}
    for sql in sqls:
        kind = statement_kind(sql)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def list_query(sqls: list[str]) -> str:
    """The list's own query: the one that reads recordings with a LIMIT."""
    for sql in sqls:
        if statement_kind(sql) == "data" and '"recordings_recording"' in sql and "LIMIT" in sql.upper():
            return sql
    raise SystemExit("No recordings list query among the captured queries:\n" + "\n".join(sqls))


# --- The bare view: the same JSON from the same queries, nothing around them -------------


def bare_client(account_id: str) -> Any:
    """A client whose requests reach one plain Django view through Django's handler and
    nothing else: no middleware (no session, user, tenancy middleware, CSRF...), no DRF.
    The view runs the list's own queries in the household's scope (the rows need it under
    RLS) and builds the same JSON with the same functions as the API."""
    from django.http import HttpRequest, JsonResponse
    from django.test import Client, override_settings
    from django.test.client import ClientHandler
    from django.urls import path

    from accounts.tenancy import account_scope
    from devices.models import Camera
    from recordings.api.pagination import decode_cursor, page_links
    from recordings.api.serializers import recordings_json
    from recordings.selectors import keyset_page

    account = uuid.UUID(account_id)

    def link(request: HttpRequest, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return request.build_absolute_uri(request.path) + "?" + urlencode({**request.GET.dict(), "cursor": cursor})

    def bare_list(request: HttpRequest) -> JsonResponse:
        params = request.GET
        direction, position = None, None
        if params.get("cursor"):
            direction, position = decode_cursor(params["cursor"], account_id=account)
        with account_scope(account):
            camera = Camera.objects.get(pk=params["camera"])
            page = keyset_page(
                camera.recordings.all(),
                page_size=int(params["page_size"]),
                after=position if direction == "next" else None,
                before=position if direction == "previous" else None,
                camera=camera,
            )
            older, newer = page_links(items=page.items, has_more=page.has_more, direction=direction, account_id=account)
            results = recordings_json(page.items, motion=page.motion)
        return JsonResponse({"results": results, "next": link(request, older), "previous": link(request, newer)})

    class BareUrls:
        urlpatterns = [path(LIST_URL.lstrip("/"), bare_list)]

    class BareHandler(ClientHandler):
        def get_response(self, request: HttpRequest) -> Any:
            request.urlconf = BareUrls  # type: ignore[attr-defined]
            return super().get_response(request)

    client = Client(HTTP_HOST="127.0.0.1")
    client.handler = BareHandler(enforce_csrf_checks=False)
    with override_settings(MIDDLEWARE=[]):
        client.handler.load_middleware()
    return client


def compare_with_bare(api: Any, bare: Any, url: str, *, requests: int, warmup: int) -> dict[str, Any]:
    """The API request against the bare view, interleaved (the machine's drift hits both)."""
    api_json, bare_json = get_json(api, url), get_json(bare, url)
    same = api_json == bare_json
    timings: dict[str, list[float]] = {"api": [], "bare": []}
    for n in range(warmup + requests):
        for side, client in (("api", api), ("bare", bare)) if n % 2 else (("bare", bare), ("api", api)):
            started = time.perf_counter()
            client.get(url)
            if n >= warmup:
                timings[side].append(time.perf_counter() - started)
    a, b = summary_ms(timings["api"]), summary_ms(timings["bare"])
    return {
        "api": a,
        "bare_view": b,
        "ratio_p50": round(a["p50_ms"] / b["p50_ms"], 3),
        "ratio_p99": round(a["p99_ms"] / b["p99_ms"], 3),
        "same_results": same,
    }


# --- The baseline: the same SQL, with and without scope and RLS --------------------------


def forced_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Every table with row-level security (the migrations enable and force it together)."""
    rows = conn.execute(
        "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r' AND relnamespace = 'public'::regnamespace"
    ).fetchall()
    return [str(name) for (name,) in rows]


@contextmanager
def owner_without_rls(owner_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An owner's connection to which no row-level security applies.

    ``FORCE ROW LEVEL SECURITY`` is turned off (committed: doing it inside the
    measured transaction made every query in it slower) and forced again on
    exit; it only ever concerns the owner, the application role keeps RLS
    throughout. ``row_security = off`` makes a query that a policy would still
    filter raise instead of silently applying it.
    """
    with psycopg.connect(owner_url, autocommit=True) as conn:
        tables = forced_tables(conn)
        try:
            for table in tables:
                conn.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            conn.execute("SET row_security = off")
            yield conn
        finally:
            conn.execute("RESET row_security")
            for table in tables:
                conn.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


def force_rls_again(owner_url: str) -> None:
    """Undo what an interrupted earlier run may have left (``owner_without_rls``)."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for table in forced_tables(conn):
            conn.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


@contextmanager
def app_scoped(conn: psycopg.Connection[Any], account_id: str, user_id: str) -> Iterator[None]:
    """A transaction in the household's scope, as ``accounts.tenancy.account_scope`` sets it."""
    with conn.transaction():
        conn.execute(
            "SELECT set_config('nvr.account_id', %s, true), set_config('nvr.user_id', %s, true), "
            "set_config('nvr.email', '', true), set_config('nvr.unscoped', 'off', true)",
            (account_id, user_id),
        )
        yield


def run_sql(conn: psycopg.Connection[Any], sql: str) -> tuple[float, int]:
    """Seconds to execute ``sql`` and fetch its rows, and how many rows."""
    started = time.perf_counter()
    rows = len(conn.execute(sql.encode()).fetchall())  # bytes: literal SQL, no placeholders to parse
    return time.perf_counter() - started, rows


def compare_sql(
    app_url: str, owner_url: str, sql: str, *, account_id: str, user_id: str, requests: int, warmup: int
) -> dict[str, Any]:
    """The list's SQL as the app in the household's scope (RLS) and as the owner without RLS, alternately."""
    rounds = 10
    scoped: list[float] = []
    unscoped: list[float] = []
    counts: set[tuple[int, int]] = set()
    with psycopg.connect(app_url) as app, owner_without_rls(owner_url) as owner:
        for round_ in range(rounds + 1):  # round 0 warms up
            # One transaction a round on each side, the queries one after the other: load changes hit both.
            with app_scoped(app, account_id, user_id), owner.transaction():
                for _ in range(warmup if round_ == 0 else max(1, requests // rounds)):
                    a, a_rows = run_sql(app, sql)
                    b, b_rows = run_sql(owner, sql)
                    counts.add((a_rows, b_rows))
                    if round_:
                        scoped.append(a)
                        unscoped.append(b)
    if len(counts) != 1 or len({n for pair in counts for n in pair}) != 1:
        raise SystemExit(f"The scoped and unscoped queries returned different rows (counts {sorted(counts)}).")
    a_summary, b_summary = summary_ms(scoped), summary_ms(unscoped)
    return {
        "rows": counts.pop()[0],
        "scoped_rls": a_summary,
        "unscoped_owner": b_summary,
        "ratio_p50": round(a_summary["p50_ms"] / b_summary["p50_ms"], 3),
        "ratio_p99": round(a_summary["p99_ms"] / b_summary["p99_ms"], 3),
        "ratio_min": round(a_summary["min_ms"] / b_summary["min_ms"], 3),
    }


def plan_nodes(node: dict[str, Any]) -> list[str]:
    text = node["Node Type"]
    if "Index Name" in node:
        text += f" using {node['Index Name']}"
    if "Relation Name" in node:
        text += f" on {node['Relation Name']}"
    for key in ("Index Cond", "Filter"):
        if key in node:
            text += f" [{key}: {node[key]}]"
    if "Actual Rows" in node:
        text += f" (rows={node['Actual Rows']}, estimated={node['Plan Rows']}"
        if node.get("Rows Removed by Filter"):
            text += f", removed by filter={node['Rows Removed by Filter']}"
        text += ")"
    out = [text]
    for child in node.get("Plans", []):
        out += ["  " + line for line in plan_nodes(child)]
    return out


def explain(conn: psycopg.Connection[Any], sql: str) -> dict[str, Any]:
    row = conn.execute(b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql.encode()).fetchone()
    assert row is not None
    document = row[0][0]
    plan = document["Plan"]
    return {
        "nodes": plan_nodes(plan),
        "execution_ms": document.get("Execution Time"),
        "planning_ms": document.get("Planning Time"),
        "shared_hit": plan.get("Shared Hit Blocks"),
        "shared_read": plan.get("Shared Read Blocks"),
    }


def explain_both(app_url: str, owner_url: str, sql: str, *, account_id: str, user_id: str) -> dict[str, Any]:
    with psycopg.connect(app_url) as app, app_scoped(app, account_id, user_id):
        scoped = explain(app, sql)
    with owner_without_rls(owner_url) as owner:
        unscoped = explain(owner, sql)
    return {"scoped_rls": scoped, "unscoped_owner": unscoped}


# --- Main ------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    picked = bench_households()
    deep_user, deep_camera = picked["deep_user"], picked["deep_camera"]
    account_id, user_id = str(deep_camera.account_id), str(deep_user.pk)
    progress(f"deep camera {deep_camera.pk}: {picked['deep_count']} recordings")
    client = signed_in(deep_user)
    first = first_url(deep_camera.pk, args.page_size)
    progress(f"following next to page {args.deep_page}")
    deep, seen = follow(client, first, args.deep_page)
    if len(seen) != len(set(seen)) or len(seen) != (args.deep_page - 1) * args.page_size:
        raise SystemExit(f"Keyset pages repeated or skipped rows: {len(seen)} ids, {len(set(seen))} distinct.")

    progress("counting queries")
    first_sqls, deep_sqls = captured(client, first), captured(client, deep)
    by_page_size = {
        str(size): query_counts(captured(client, first_url(deep_camera.pk, size))) for size in (10, 50, 100)
    }

    progress(f"timing first page and page {args.deep_page}: {args.requests} requests each")
    cases: dict[str, Any] = {}
    for name, url in (("first_page", first), ("deep_page", deep)):
        timings = time_requests([partial(client.get, url)], warmup=args.warmup, requests=args.requests)
        cases[name] = summary_ms(timings)
    mixed_calls = [
        partial(signed_in(user).get, first_url(camera.pk, args.page_size)) for user, camera in picked["mixed"]
    ]
    progress(f"timing the first page of {len(mixed_calls)} households in turn")
    cases["first_page_mixed"] = summary_ms(time_requests(mixed_calls, warmup=len(mixed_calls), requests=args.requests))
    cases["first_page"]["queries"] = query_counts(first_sqls)
    cases["deep_page"]["queries"] = query_counts(deep_sqls)

    progress("the API request against a bare view of the same queries")
    bare = bare_client(account_id)
    request_vs_bare = {
        name: compare_with_bare(client, bare, url, requests=args.requests, warmup=args.warmup)
        for name, url in (("first_page", first), ("deep_page", deep))
    }
    worst_bare_ratio = max(max(c["ratio_p50"], c["ratio_p99"]) for c in request_vs_bare.values())

    progress("baseline: the list query with scope and RLS, and as the owner without either")
    sql_first, sql_deep = list_query(first_sqls), list_query(deep_sqls)
    common = {"account_id": account_id, "user_id": user_id}
    baseline = {
        "first_page": compare_sql(
            args.app_url, args.owner_url, sql_first, requests=args.queries, warmup=args.warmup, **common
        ),
        "deep_page": compare_sql(
            args.app_url, args.owner_url, sql_deep, requests=args.queries, warmup=args.warmup, **common
        ),
    }
    plans = {
        "first_page": explain_both(args.app_url, args.owner_url, sql_first, **common),
        "deep_page": explain_both(args.app_url, args.owner_url, sql_deep, **common),
    }
    worst_p99 = max(cases["first_page"]["p99_ms"], cases["deep_page"]["p99_ms"])
    data_queries = max(counts.get("data", 0) for counts in by_page_size.values())
    worst_ratio = max(baseline[p]["ratio_p50"] for p in baseline)
    return {
        "bench": "timeline",
        "households": args.households,
        "recordings": args.recordings,
        "deep_camera_recordings": picked["deep_count"],
        "page_size": args.page_size,
        "deep_page": args.deep_page,
        "requests": args.requests,
        "api": cases,
        "queries_by_page_size": by_page_size,
        "request_vs_bare_view": request_vs_bare,
        "list_query": baseline,
        "list_query_ratio": worst_ratio,
        # For context: a whole request against the bare list query (owner, no RLS), p50.
        "request_vs_bare_query_p50": {
            page: round(cases[page]["p50_ms"] / baseline[page]["unscoped_owner"]["p50_ms"], 1) for page in baseline
        },
        "explain": plans,
        "list_sql_first": sql_first,
        "goals": GOALS,
        "ok": {
            "p99": worst_p99 <= GOALS["p99_ms"],
            "data_queries": data_queries <= GOALS["queries_per_request"]
            and len({c.get("data", 0) for c in by_page_size.values()}) == 1,
            "list_query_ratio": worst_ratio <= GOALS["list_query_ratio"],
            "request_vs_bare_view": worst_bare_ratio <= GOALS["request_vs_bare_view"]
            and all(c["same_results"] for c in request_vs_bare.values()),
        },
        "postgres": server_settings(args.app_url),
    }


def server_settings(url: str) -> dict[str, str]:
    """The planner settings the application's connections run with (``PGOPTIONS`` included)."""
    names = ("server_version", "random_page_cost", "effective_cache_size", "shared_buffers", "work_mem", "jit")
    with psycopg.connect(url) as conn:
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-url", default=os.environ.get("DATABASE_URL") or DEFAULT_APP_URL)
    parser.add_argument("--owner-url", default=os.environ.get("DATABASE_OWNER_URL") or DEFAULT_OWNER_URL)
    parser.add_argument("--rebuild", action="store_true", help="drop the bench database and generate the data again")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--recordings", type=int, default=1_000_000)
    parser.add_argument("--deep", type=int, default=10_000, help="recordings of household #1's first camera")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--deep-page", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300, help="measured requests (and queries) per case")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--queries", type=int, default=1000, help="executions of the list SQL per side (baseline)")
    parser.add_argument("--setup-only", action="store_true", help="create and fill the database, measure nothing")
    args = parser.parse_args()
    if database_name(args.app_url) != database_name(args.owner_url):
        raise SystemExit("--app-url and --owner-url must name the same database.")
    if "bench" not in database_name(args.owner_url) or not args.app_url.startswith("postgres"):
        raise SystemExit(
            f"Refusing to fill {args.owner_url!r}: the bench drops and fills its database, whose name must contain "
            "'bench' (unset DATABASE_URL / DATABASE_OWNER_URL for the default, or pass --app-url and --owner-url)."
        )

    with exclusive_run(args.owner_url):
        result = prepare_and_measure(args)
    if result is not None:
        print(json.dumps(result), flush=True)


def prepare_and_measure(args: argparse.Namespace) -> dict[str, Any] | None:
    created = ensure_database(args.owner_url, rebuild=args.rebuild)
    progress("migrate (as the owner)")
    migrate(args.app_url, args.owner_url)
    force_rls_again(args.owner_url)
    households, recordings = (0, 0) if created else existing_data(args.owner_url)
    if (households, recordings) != (args.households, args.recordings):
        if households or recordings:
            progress(f"found {households} households and {recordings} recordings: rebuilding")
            ensure_database(args.owner_url, rebuild=True)
            migrate(args.app_url, args.owner_url)
        started = time.perf_counter()
        generate(args.owner_url, households=args.households, recordings=args.recordings, deep=args.deep, days=args.days)
        progress(f"data generated in {time.perf_counter() - started:.0f} s")
    else:
        progress(f"reusing {households} households and {recordings} recordings (--rebuild to regenerate)")
    if args.setup_only:
        return None
    setup_django(args.app_url, args.owner_url)
    return measure(args)


if __name__ == "__main__":
    main()
