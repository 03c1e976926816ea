"""Corporate networks: a private CA (`ca_file`, `ca_pem`), an explicit `proxy`, and the
environment's `HTTPS_PROXY`/`NO_PROXY`, against the mock server in TLS mode (`--ca-out`),
whose port is also a CONNECT proxy that counts its tunnels (`tunnels` in /admin/stats)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import running_mock
from test_fork import in_child

from support import CLIENT_ID, CLIENT_SECRET, MockServer
from twilio_oauth import ConfigError, OAuthClient, TransportError

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks:DeprecationWarning")

PROXY_VARS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)


@dataclass
class TlsMock:
    url: str
    """`https://127.0.0.1:PORT`: what the client under test uses."""
    ca_file: Path
    proxy: str
    """`http://127.0.0.1:PORT`: the same port as a CONNECT proxy."""
    admin: MockServer
    """The admin API, over plain HTTP on the same port."""

    def tunnels(self) -> int:
        count: int = self.admin.stats()["tunnels"]
        return count


@pytest.fixture(scope="module")
def tls_mock() -> Iterator[TlsMock]:
    with tempfile.TemporaryDirectory() as folder:
        ca_file = Path(folder) / "ca.pem"
        with running_mock("--ca-out", str(ca_file)) as (url, process):
            assert url.startswith("https://"), url
            plain = url.replace("https://", "http://")
            yield TlsMock(url, ca_file, plain, MockServer(plain, process))


@pytest.fixture
def tls(tls_mock: TlsMock) -> TlsMock:
    tls_mock.admin.reset()
    return tls_mock


def client(
    tls: TlsMock, *, ca_file: str | Path | None = None, ca_pem: str | None = None, proxy: str | None = None
) -> OAuthClient:
    return OAuthClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=tls.url,
        max_retries=0,
        ca_file=ca_file,
        ca_pem=ca_pem,
        proxy=proxy,
    )


def test_with_the_ca_as_a_file_or_pem_text_the_server_is_trusted(tls: TlsMock) -> None:
    by_path = client(tls, ca_file=tls.ca_file).client_credentials()
    by_str = client(tls, ca_file=str(tls.ca_file)).client_credentials()
    by_pem = client(tls, ca_pem=tls.ca_file.read_text()).client_credentials()
    assert len({by_path.access_token, by_str.access_token, by_pem.access_token}) == 3
    assert tls.admin.requests("/v2/token") == 3
    assert tls.tunnels() == 0


async def test_the_awaitable_calls_use_the_same_ca(tls: TlsMock) -> None:
    token = await client(tls, ca_pem=tls.ca_file.read_text()).client_credentials_async()
    assert token.access_token


def test_without_the_ca_the_error_is_a_transport_error_naming_certificate_verification(tls: TlsMock) -> None:
    with pytest.raises(TransportError) as caught:
        client(tls).client_credentials()
    print(f"without the CA: {caught.value}")
    assert "certificate verification failed" in str(caught.value)
    assert tls.admin.requests("/v2/token") == 0


def test_a_bad_ca_or_proxy_is_a_config_error_naming_the_option(tls: TlsMock, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n")
    builds: list[tuple[Callable[[], OAuthClient], str]] = [
        (lambda: client(tls, ca_file=tmp_path / "missing.pem"), "ca_file"),
        (lambda: client(tls, ca_file=garbage), "ca_file"),
        (lambda: client(tls, ca_pem="hello"), "ca_pem"),
        (lambda: client(tls, proxy="socks5://alice:pa55word@proxy:1080"), "proxy"),
    ]
    for build, named in builds:
        with pytest.raises(ConfigError, match=named) as caught:
            build()
        assert "pa55word" not in str(caught.value)
    with pytest.raises(ConfigError, match="max_retries"):
        OAuthClient(client_id=CLIENT_ID, max_retries=-1)


def test_through_an_explicit_proxy_the_tunnel_count_goes_up(tls: TlsMock) -> None:
    c = client(
        tls,
        ca_file=tls.ca_file,
        proxy=tls.proxy.replace("http://", "http://alice:pa55word@"),
    )
    assert "pa55word" not in repr(c)
    for _ in range(3):
        c.client_credentials()
    # One tunnel carries the pooled connection's three requests.
    assert tls.tunnels() == 1

    # A forked child builds its own connection pool, through the same proxy.
    def fetch() -> None:
        c.client_credentials()

    in_child(fetch)
    assert tls.tunnels() == 2
    assert tls.admin.requests("/v2/token") == 4


CHILD = """
import os, sys
from twilio_oauth import OAuthClient
client = OAuthClient.from_env(max_retries=0)
client.client_credentials()
if len(sys.argv) > 1:  # and once more in a forked child, whose client is rebuilt after fork
    pid = os.fork()
    if pid == 0:
        client.client_credentials()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize(
    ("case", "variables", "fork", "tunnels"),
    [
        ("HTTPS_PROXY", {"HTTPS_PROXY": "{proxy}"}, False, 1),
        ("https_proxy in a forked child too", {"https_proxy": "{proxy}"}, True, 2),
        ("NO_PROXY bypasses it", {"HTTPS_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1"}, False, 0),
    ],
)
def test_the_environment_proxy_is_honoured(
    tls: TlsMock, case: str, variables: dict[str, str], fork: bool, tunnels: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update({k: v.format(proxy=tls.proxy) for k, v in variables.items()})
    env.update(
        TWILIO_CLIENT_ID=CLIENT_ID,
        TWILIO_CLIENT_SECRET=CLIENT_SECRET,
        TWILIO_OAUTH_BASE_URL=tls.url,
        TWILIO_OAUTH_CA_FILE=str(tls.ca_file),
    )
    args = [sys.executable, "-c", CHILD] + (["fork"] if fork else [])
    # From a folder without the sources: the child imports the installed package.
    done = subprocess.run(args, env=env, cwd=tls.ca_file.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{case}: {done.stderr}"
    assert tls.tunnels() == tunnels, case
    assert tls.admin.requests("/v2/token") == (2 if fork else 1)
