"""The language-independent scenarios of tests/scenarios/*.json, run through the Python API
(see tests/scenarios/README.md). Each scenario is one test; the tally goes to
target/scenario-results/python.json for scripts/scenario-table."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
    REPO,
    SCENARIO_TALLY,
    MockServer,
    authorize,
    login,
)
from twilio_oauth import DeviceAuthorization, FileStore, OAuthClient, Token, TwilioOAuthError

SCENARIOS: list[dict[str, Any]] = [
    scenario
    for path in sorted((REPO / "tests" / "scenarios").glob("*.json"))
    for scenario in json.loads(path.read_text())
]
RESULTS: dict[str, bool] = {}


@dataclass
class Outcome:
    tokens: list[Token] = field(default_factory=list)
    device: DeviceAuthorization | None = None


# Problems an op found along the way (checked the moment a token was returned), in addition to
# the ones of its outcome.
Problems = list[str]


def build_client(mock: MockServer, spec: dict[str, Any]) -> OAuthClient:
    kind = spec.get("client", "confidential")
    options: dict[str, Any] = {
        "public": {"client_id": PUBLIC_CLIENT_ID},
        "wrong_secret": {"client_id": CLIENT_ID, "client_secret": "wrong-secret"},
    }.get(kind, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    if spec.get("v1_credentials", True) is not False:
        options.update(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    for key in ("client_id", "client_secret", "timeout", "max_retries"):
        if key in spec:
            options[key] = spec[key]
    base = spec.get("base_url", "{server}")
    options["base_url"] = base.replace("{server}", mock.url).replace("{closed_port}", "http://127.0.0.1:1")
    return OAuthClient(**options)


def pkce(client: OAuthClient, call: dict[str, Any], right: bool) -> Token:
    redirect = call["redirect_uri"]
    request = client.authorization_url(redirect, scope=call.get("scope"))
    code, state = authorize(request.url)
    assert state == request.state, "the redirect must carry our state back"
    verifier = request.code_verifier if right else client.authorization_url(redirect).code_verifier
    return client.exchange_code(code, redirect, verifier)


def user_login(client: OAuthClient, call: dict[str, Any]) -> Token:
    """A person's login for the `user_*` ops: the PKCE flow with the right verifier."""
    return login(client, call.get("scope", "openid offline_access"))


def run_user_call(
    mock: MockServer, client: OAuthClient, call: dict[str, Any], problems: Problems
) -> Outcome | None:
    """The ops of users.json (people's tokens); `None` for any other op."""
    op = call["op"]
    if op == "user_refresh_refused":
        first = user_login(client, call)
        assert first.refresh_token
        client.refresh(first.refresh_token)  # spends the login's refresh token
        provider = client.token_provider(initial_token=first)
        provider.invalidate()
        return Outcome([provider.token()])
    if op == "user_refresh_cycles":
        first = user_login(client, call)
        provider = client.token_provider(initial_token=first)
        tokens = [first]
        for _ in range(call["cycles"]):
            provider.invalidate()
            tokens.append(provider.token())
        return Outcome(tokens)
    if op == "user_over_lifetimes":
        first = user_login(client, call)
        provider = client.token_provider(initial_token=first)
        tokens = [first]
        until = time.monotonic() + call["seconds"]
        while time.monotonic() < until:
            token = provider.token()
            if token.expires_in() <= 0 or token.is_expired():
                problems.append("expired token handed out")
            tokens.append(token)
            time.sleep(call["interval_ms"] / 1000)
        return Outcome(tokens)
    if op == "user_no_later_expiry":
        first = user_login(client, call)
        provider = client.token_provider(initial_token=first, refresh_ahead=call["refresh_ahead"])
        time.sleep(call["wait_ms"] / 1000)  # into the refresh-ahead window
        mock.config(**call["then_config"])
        t1 = provider.token()
        if t1.access_token != first.access_token:
            problems.append("the first call did not return the login's access token")
        deadline = time.monotonic() + 5
        kept = None
        while time.monotonic() < deadline:
            cached = provider.cached()
            if cached is not None and cached.refresh_token not in (None, first.refresh_token):
                kept = cached
                break
            time.sleep(0.01)
        if kept is None:
            problems.append("new refresh token not kept")
        elif kept.access_token != first.access_token:
            problems.append("the longer-lived access token was not kept")
        provider.invalidate()
        return Outcome([t1, provider.token()])
    if op == "two_users_one_file_store":
        last: Token | None = None
        with tempfile.TemporaryDirectory(prefix="twilio-oauth-scenario-") as folder:  # mode 0700
            store = FileStore(Path(folder) / "tokens.json")
            users: list[str] = call["users"]
            for user in users:
                mock.config(user_sid=user)
                person = user_login(client, call)
                client.token_provider(store=store, initial_token=person, account=user).token()
            for user in users:
                last = client.token_provider(store=store, account=user).token()
                sub = last.claims().get("sub")
                if sub != user:
                    problems.append(f"{user} got the token of {sub!r}")
        return Outcome([] if last is None else [last])
    return None


def run_call(mock: MockServer, client: OAuthClient, call: dict[str, Any], problems: Problems) -> Outcome:
    op = call["op"]
    user_outcome = run_user_call(mock, client, call, problems)
    if user_outcome is not None:
        return user_outcome
    if op == "construct":
        return Outcome()
    if op == "client_credentials":
        return Outcome([client.client_credentials(call.get("scope"), call.get("audience"))])
    if op == "create_oauth2_token":
        fields = ("scope", "audience", "account_sid", "refresh_token", "code")
        return Outcome(
            [client.create_oauth2_token(call["grant_type"], **{k: call[k] for k in fields if k in call})]
        )
    if op == "create_token":
        return Outcome([client.create_token(call["grant_type"])])
    if op == "create_device_code":
        return Outcome(device=client.create_device_code(call["scopes"], audiences=call.get("audiences", [])))
    if op == "device_flow":
        device = client.create_device_code(call["scopes"])
        then = call.get("then")
        if then == "approve":
            mock.approve(device.user_code)
        elif then == "deny":
            mock.deny(device.user_code)
        return Outcome([client.poll_device_token(device)])
    if op == "pkce_flow":
        return Outcome([pkce(client, call, call.get("verifier") != "wrong")])
    if op == "refresh_flow":
        token = pkce(client, call, True)
        assert token.refresh_token
        return Outcome([client.refresh(token.refresh_token)])
    provider = client.token_provider(scope=call.get("scope"))
    if op == "provider_concurrent":
        results: list[Token | BaseException] = []
        lock = threading.Lock()

        def one() -> None:
            try:
                value: Token | BaseException = provider.token()
            except BaseException as e:
                value = e
            with lock:
                results.append(value)

        threads = [threading.Thread(target=one) for _ in range(call["callers"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
        return Outcome([r for r in results if isinstance(r, Token)])
    if op == "provider_repeat":
        return Outcome([provider.token() for _ in range(call["calls"])])
    if op == "provider_invalidate":
        first = provider.token()
        provider.invalidate()
        return Outcome([first, provider.token()])
    raise AssertionError(f"unknown op {op}")


def check_ok(outcome: Outcome, want: dict[str, Any], problems: list[str]) -> None:
    if outcome.device is not None:
        device = outcome.device
        if "user_code_length" in want and len(device.user_code) != want["user_code_length"]:
            problems.append(f"user_code {device.user_code!r}")
        if "interval" in want and int(device.interval) != want["interval"]:
            problems.append(f"interval {device.interval}")
        return
    if not outcome.tokens:
        return
    tokens = outcome.tokens
    last = tokens[-1]
    for key, value in want.items():
        if key == "token_type":
            ok = last.token_type == value
        elif key == "is_jwt":
            ok = bool(last.claims()) == value
        elif key == "expires_in_min":
            ok = last.expires_in() >= value
        elif key == "expires_in_max":
            ok = last.expires_in() <= value
        elif key == "has_refresh_token":
            ok = (last.refresh_token is not None) == value
        elif key == "has_id_token":
            ok = (last.id_token is not None) == value
        elif key == "claims":
            claims = last.claims()
            ok = all(claims.get(k) == v for k, v in value.items())
        elif key == "same_token_for_all":
            ok = all(t.access_token == last.access_token for t in tokens) == value
        elif key == "tokens_differ":
            ok = (tokens[0].access_token != last.access_token) == value
        else:
            raise AssertionError(f"unknown expectation {key}")
        if not ok:
            problems.append(f"ok.{key}: want {value!r} (expires_in {last.expires_in():.1f}s)")


def check_error(error: TwilioOAuthError, want: dict[str, Any], problems: list[str]) -> None:
    for key, value in want.items():
        if key == "kind":
            ok = type(error).__name__ == value
        elif key == "message_contains":
            ok = value in str(error)
        elif key == "retry_after":
            ok = error.retry_after is not None and int(error.retry_after) == value
        elif key == "message":
            # The scenarios' `message` is the server's own words: `server_message` here (the
            # `message` attribute is the human text, what str() shows).
            ok = error.server_message == value
        elif key in ("status", "code", "error", "more_info"):
            ok = getattr(error, key) == value
        else:
            raise AssertionError(f"unknown expectation {key}")
        if not ok:
            problems.append(f"error.{key}: want {value!r}, got {type(error).__name__}: {error}")


def run_scenario(mock: MockServer, scenario: dict[str, Any]) -> list[str]:
    server = scenario.get("server", {})
    if "config" in server:
        mock.config(**server["config"])
    for endpoint, faults in server.get("faults", {}).items():
        mock.fault(endpoint, *json.loads(json.dumps(faults).replace("{server}", mock.url)))
    expect = scenario["expect"]
    started = time.monotonic()
    outcome: Outcome | TwilioOAuthError
    problems: Problems = []
    try:
        outcome = run_call(mock, build_client(mock, scenario.get("client", {})), scenario["call"], problems)
    except TwilioOAuthError as e:
        outcome = e
    took = time.monotonic() - started
    if isinstance(outcome, Outcome) and "ok" in expect:
        check_ok(outcome, expect["ok"], problems)
    elif isinstance(outcome, TwilioOAuthError) and "error" in expect:
        check_error(outcome, expect["error"], problems)
    elif isinstance(outcome, Outcome):
        problems.append("succeeded, but an error was expected")
    else:
        problems.append(f"failed with {type(outcome).__name__}: {outcome}")
    for path, count in expect.get("requests", {}).items():
        got = mock.requests(path)
        if got != count:
            problems.append(f"requests {path}: want {count}, got {got}")
    server_stats = mock.stats()
    for section, at_least in (("server_stats", False), ("server_stats_min", True)):
        for name, want in expect.get(section, {}).items():
            seen = server_stats.get(name)
            if not isinstance(seen, int) or not (seen >= want if at_least else seen == want):
                problems.append(f"{section}.{name}: want {want}, got {seen}")
    if "min_seconds" in expect and took < expect["min_seconds"]:
        problems.append(f"took {took:.2f}s, less than {expect['min_seconds']}s")
    return problems


@pytest.fixture(scope="module", autouse=True)
def scenario_results(request: pytest.FixtureRequest) -> Any:
    yield
    out = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "scenario-results"
    if not out.is_absolute():
        out = REPO / out
    out.mkdir(parents=True, exist_ok=True)
    passed = sum(RESULTS.values())
    failed = len(RESULTS) - passed
    (out / "python.json").write_text(json.dumps({"language": "Python", "passed": passed, "failed": failed}))
    request.config.stash[SCENARIO_TALLY] = (passed, failed)


def test_the_scenario_files_are_there() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(mock: MockServer, scenario: dict[str, Any]) -> None:
    RESULTS[scenario["name"]] = False  # until it has run to the end without a problem
    problems = run_scenario(mock, scenario)
    RESULTS[scenario["name"]] = not problems
    assert not problems, "; ".join(problems)
