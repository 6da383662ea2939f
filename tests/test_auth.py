"""Access control on a real server: HTTP Basic, the sign-in form and cookie, the proxy header."""

from __future__ import annotations

import ipaddress
import itertools
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from realtime.auth import SESSION_COOKIE
from realtime.config import PgSettings
from realtime.htpasswd import hash_password
from realtime.views.assets import asset_urls
from tests.support.http import Reply, basic, request
from tests.support.pg import PgServer, TestDb, create_schema, run
from tests.support.server import LiveServer, serve, wait_until

PASSWORDS = {"alice": "wonderland-42", "bob": "builder-7"}
PROXY = "127.0.0.2"
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A loopback source address no other test has used: failures count per address."""
    n = next(_addresses)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"


def users_file(path: Path, passwords: dict[str, str]) -> Path:
    lines = []
    for i, (user, password) in enumerate(passwords.items()):
        hashed = hash_password(password, rounds=4)
        # Apache's htpasswd -B writes $2y$; other tools write $2b$: accept both.
        lines.append(f"{user}:{(hashed.replace(b'$2b$', b'$2y$') if i % 2 == 0 else hashed).decode()}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(pg_admin: PgSettings, pg_server: PgServer) -> TestDb:
    db: TestDb = run(create_schema(pg_admin, pg_server))
    base = datetime(2025, 3, 1, 12)
    run(db.insert("temperature", [(base + timedelta(seconds=i), 37.0) for i in range(60)]))
    return db


@pytest.fixture(scope="module")
def server(history: TestDb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = users_file(tmp_path_factory.mktemp("auth") / "users", PASSWORDS)
    settings = history.settings(
        auth_users_file=path,
        auth_max_failures=3,
        auth_proxy_header="x-forwarded-user",
        trusted_proxies=(ipaddress.ip_network(f"{PROXY}/32"),),
    )
    with serve(settings) as live:
        yield live


def sign_in(server: LiveServer, user: str, password: str, next_path: str = "/", source: str = "127.0.0.1") -> Reply:
    return request(
        server.port,
        "/signin",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.url},
        body=urlencode({"user": user, "password": password, "next": next_path}).encode(),
        source=source,
    )


def session_cookie(reply: Reply) -> str:
    cookie = next(c for c in reply.cookies if c.startswith(f"{SESSION_COOKIE}="))
    return cookie.split(";")[0]


def ws_status(server: LiveServer, headers: dict[str, str]) -> int:
    """101 with the hello message, or the status (and JSON body) the handshake was refused with."""
    try:
        with connect(server.ws_url, open_timeout=10, additional_headers=headers) as ws:
            hello = str(ws.recv(timeout=10))
    except InvalidStatus as exc:
        refusal = exc.response
    else:
        assert '"hello"' in hello
        return 101
    assert refusal.headers["Content-Type"] == "application/json"
    return refusal.status_code


PROTECTED = [
    "/api/series",
    "/api/series/temperature/data",
    "/api/data",
    "/api/export.csv?series=temperature",
    "/" + asset_urls()["app.js"],
]


@pytest.mark.parametrize("path", PROTECTED)
def test_no_credentials_get_401_json_with_a_basic_challenge(server: LiveServer, path: str) -> None:
    reply = request(server.port, path)
    assert reply.status == 401
    assert reply.json() == {"error": "sign-in required"}
    assert reply.headers["www-authenticate"].startswith('Basic realm="Bioreactor dashboard"')
    # A script on a page gets no challenge: it would pop the browser's own password dialog.
    scripted = request(server.port, path, headers={"Sec-Fetch-Mode": "cors"})
    assert scripted.status == 401
    assert "www-authenticate" not in scripted.headers


@pytest.mark.parametrize("path", PROTECTED)
def test_wrong_credentials_get_401_and_right_ones_200(server: LiveServer, path: str) -> None:
    wrong = request(server.port, path, headers=basic("alice", "wrong"), source=fresh_address())
    assert wrong.status == 401
    assert wrong.json() == {"error": "wrong user name or password"}
    unknown = request(server.port, path, headers=basic("mallory", "wonderland-42"), source=fresh_address())
    assert unknown.status == 401
    for user, password in PASSWORDS.items():
        assert request(server.port, path, headers=basic(user, password)).status == 200


def test_the_websocket_handshake_needs_a_user(server: LiveServer) -> None:
    assert ws_status(server, {}) == 401
    assert ws_status(server, basic("alice", "wrong")) == 401
    assert ws_status(server, basic("alice", PASSWORDS["alice"])) == 101


def test_health_checks_stay_open(server: LiveServer) -> None:
    assert request(server.port, "/healthz").status == 200
    assert request(server.port, "/readyz").status == 200


def test_a_browser_navigating_to_the_page_is_sent_to_sign_in_relatively(server: LiveServer) -> None:
    navigate = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html", "Host": "evil.example"}
    reply = request(server.port, "/", headers=navigate)
    assert reply.status == 303
    assert reply.headers["location"] == "/signin"
    reply = request(server.port, "/?range=6h&tz=utc", headers=navigate)
    assert reply.headers["location"] == "/signin?next=%2F%3Frange%3D6h%26tz%3Dutc"
    # Not a navigation (a script, curl): 401, no redirect.
    assert request(server.port, "/").status == 401


def test_sign_in_sets_a_session_cookie_that_opens_everything_until_sign_out(server: LiveServer) -> None:
    page = request(server.port, "/signin?next=/%3Frange%3D6h")
    assert page.status == 200
    assert 'name="next" value="/?range=6h"' in page.text
    assert "<script" not in page.text
    assert "style=" not in page.text

    reply = sign_in(server, "alice", PASSWORDS["alice"], next_path="/?range=6h")
    assert reply.status == 303
    assert reply.headers["location"] == "/?range=6h"
    attributes = {a.strip().split("=")[0].lower() for a in reply.cookies[0].split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in reply.cookies[0].lower()
    cookie = {"Cookie": session_cookie(reply)}

    dashboard = request(server.port, "/", headers=cookie)
    assert dashboard.status == 200
    assert 'data-testid="signed-in-user"' in dashboard.text
    assert ">alice<" in dashboard.text
    assert 'action="signout"' in dashboard.text  # relative: the page may be under a path prefix
    assert request(server.port, "/api/export.csv?series=temperature", headers=cookie).status == 200
    assert ws_status(server, cookie) == 101

    out = request(server.port, "/signout", method="POST", headers={**cookie, "Origin": server.url})
    assert out.status == 303
    assert out.headers["location"] == "/signin"
    assert any(c.startswith(f'{SESSION_COOKIE}=""') or "max-age=0" in c.lower() for c in out.cookies)
    # The token is dead on the server too, not only forgotten by the browser.
    assert request(server.port, "/api/series", headers=cookie).status == 401
    assert ws_status(server, cookie) == 401


def test_forged_cookies_and_foreign_next_are_refused(server: LiveServer) -> None:
    reply = sign_in(server, "bob", PASSWORDS["bob"], next_path="//evil.example/x")
    assert reply.headers["location"] == "/"
    name, _, token = session_cookie(reply).partition("=")
    payload, _, signature = token.partition(".")
    for forged in (f"{payload}.{signature[:-2]}AA", f"{payload}x.{signature}", "garbage"):
        assert request(server.port, "/api/series", headers={"Cookie": f"{name}={forged}"}).status == 401
    # A sign-in post from another site (login CSRF) never reaches the form.
    csrf = request(
        server.port,
        "/signin",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"},
        body=b"user=bob&password=builder-7",
    )
    assert csrf.status == 403


def test_a_wrong_password_shows_the_form_again(server: LiveServer) -> None:
    reply = sign_in(server, "alice", "nope", source=fresh_address())
    assert reply.status == 401
    assert "Wrong user name or password." in reply.text
    assert 'value="alice"' in reply.text
    assert not reply.cookies


@pytest.mark.parametrize(
    ("headers", "body", "status", "parameter"),
    [
        ({"Content-Type": "application/json"}, b"{}", 415, "Content-Type"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"user=" + b"a" * 5000, 413, "body"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"user=\xff&password=x", 400, "body"),
    ],
)
def test_malformed_sign_in_posts_are_4xx_json(
    server: LiveServer, headers: dict[str, str], body: bytes, status: int, parameter: str
) -> None:
    reply = request(server.port, "/signin", method="POST", headers=headers, body=body)
    assert reply.status == status
    assert reply.json()["parameter"] == parameter


@pytest.mark.parametrize("authorization", ["Bearer abc", "Basic !!!", "Basic " + "YWxpY2U=", "Basic"])
def test_malformed_authorization_is_401_naming_the_header(server: LiveServer, authorization: str) -> None:
    reply = request(server.port, "/api/series", headers={"Authorization": authorization})
    assert reply.status == 401
    assert reply.json()["parameter"] == "Authorization"


def test_failed_sign_ins_are_limited_per_address(server: LiveServer) -> None:
    attacker, neighbour = fresh_address(), fresh_address()
    for _ in range(3):
        assert request(server.port, "/api/series", headers=basic("alice", "guess"), source=attacker).status == 401
    blocked = request(server.port, "/api/series", headers=basic("bob", PASSWORDS["bob"] + "!"), source=attacker)
    assert blocked.status == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert sign_in(server, "alice", "guess", source=attacker).status == 429
    assert request(server.port, "/api/series", headers=basic("alice", "guess"), source=neighbour).status == 401
    # A credential verified moments ago is not a guess: a poller behind the same address goes on.
    assert request(server.port, "/api/series", headers=basic("alice", PASSWORDS["alice"])).status == 200
    assert (
        request(server.port, "/api/series", headers=basic("alice", PASSWORDS["alice"]), source=attacker).status == 200
    )


def test_basic_polling_reuses_one_bcrypt_check(server: LiveServer) -> None:
    auth = server.ctx.auth
    assert auth is not None
    credentials = basic("bob", PASSWORDS["bob"])
    assert request(server.port, "/api/series", headers=credentials).status == 200
    before = auth.bcrypt_runs
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: request(server.port, "/api/series", headers=credentials), range(20)))
    assert [r.status for r in replies] == [200] * 20
    assert auth.bcrypt_runs == before


def test_the_proxy_header_counts_only_from_a_trusted_proxy(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="realtime.access")
    headers = {"X-Forwarded-User": "carol@plant.example", "X-Forwarded-For": "192.0.2.44"}
    assert request(server.port, "/api/series?via=proxy", headers=headers, source=PROXY).status == 200
    assert request(server.port, "/api/series?via=direct", headers=headers, source="127.0.0.1").status == 401
    wait_until(lambda: sum("via=" in r.getMessage() for r in caplog.records) == 2)
    lines = {r.getMessage().split()[1]: r.getMessage() for r in caplog.records if "via=" in r.getMessage()}
    assert lines["/api/series?via=proxy"].endswith(" user=carol@plant.example client=192.0.2.44")
    assert lines["/api/series?via=direct"].endswith(" user=- client=127.0.0.1")


def test_access_log_names_the_user_of_every_request(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="realtime.access")
    path = "/api/export.csv?series=temperature&layout=long"
    assert request(server.port, path, headers=basic("alice", PASSWORDS["alice"])).status == 200
    wait_until(lambda: any("layout=long" in r.getMessage() for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if "layout=long" in r.getMessage())
    method, target, status, duration, user, client = line.split()
    assert (method, target, status, user, client) == ("GET", path, "200", "user=alice", "client=127.0.0.1")
    assert duration.endswith("ms")
    assert sign_in(server, "bob", PASSWORDS["bob"], next_path="/?signed=in").status == 303
    wait_until(lambda: any(r.getMessage().startswith("POST /signin 303 ") for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("POST /signin"))
    assert line.endswith(" user=bob client=127.0.0.1")


def test_passwords_never_reach_the_logs(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-typed-in-the-wrong-field"
    source = fresh_address()
    sign_in(server, secret, "whatever", source=source)
    sign_in(server, "alice", secret, source=source)
    request(server.port, "/api/series", headers=basic(secret, secret), source=source)
    request(server.port, "/healthz?done=1")
    wait_until(lambda: any("done=1" in r.getMessage() for r in caplog.records))
    assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]


def test_users_file_changes_apply_without_a_restart(history: TestDb, tmp_path: Path) -> None:
    path = users_file(tmp_path / "users", {"alice": PASSWORDS["alice"]})
    with serve(history.settings(auth_users_file=path)) as live:
        cookie = {"Cookie": session_cookie(sign_in(live, "alice", PASSWORDS["alice"]))}
        assert request(live.port, "/api/series", headers=cookie).status == 200
        users_file(path, {"alice": "a-new-password", "dave": "dave-pw"})
        dave = basic("dave", "dave-pw")
        # Each try from its own address: polling must not trip the failure limit.
        wait_until(lambda: request(live.port, "/api/series", headers=dave, source=fresh_address()).status == 200)
        # A changed password ends the sessions signed in with the old one.
        assert request(live.port, "/api/series", headers=cookie).status == 401


def test_proxy_only_mode_has_no_form_and_no_basic(history: TestDb) -> None:
    settings = history.settings(auth_proxy_header="x-remote-user", trusted_proxies=(ipaddress.ip_network(PROXY),))
    with serve(settings) as live:
        navigate = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
        reply = request(live.port, "/", headers=navigate)
        assert reply.status == 401
        assert "www-authenticate" not in reply.headers
        assert request(live.port, "/signin").status == 404
        assert request(live.port, "/api/series", headers=basic("alice", PASSWORDS["alice"])).json() == {
            "error": "sign-in required"
        }
        assert request(live.port, "/", headers={**navigate, "X-Remote-User": "erin"}, source=PROXY).status == 200
        assert request(live.port, "/", headers={**navigate, "X-Remote-User": "erin"}).status == 401
