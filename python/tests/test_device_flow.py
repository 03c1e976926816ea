"""The device flow: slow_down, both error body styles, and cancellation (asyncio cancel and
Ctrl-C during a blocking poll)."""

from __future__ import annotations

import _thread
import asyncio
import threading
import time

import pytest

from support import MockServer
from twilio_oauth import OAuthClient


def test_slow_down_adds_five_seconds_and_polling_goes_on(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1, auto_approve_after_polls=0)
    device = client.create_device_code(["offline_access"])
    mock.fault("/v1/token", {"status": 400, "body": {"error": "slow_down", "error_description": "easy"}})
    started = time.monotonic()
    token = client.poll_device_token(device)
    waited = time.monotonic() - started
    assert token.access_token
    assert mock.requests("/v1/token") == 2
    # 1 s before the first poll, then 1 + 5 s after slow_down: a lower bound only.
    assert waited >= 6.0


def test_twilio_style_pending_errors_keep_polling(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1, auto_approve_after_polls=2, device_error_style="twilio")
    device = client.create_device_code(["offline_access"])
    token = client.poll_device_token(device)
    assert token.access_token
    assert mock.device(device.user_code)["polls"] == 3


async def test_cancelling_the_asyncio_task_stops_the_polling(client: OAuthClient, mock: MockServer) -> None:
    mock.config(device_interval=1)
    device = await client.create_device_code_async(["offline_access"])
    task = asyncio.ensure_future(client.poll_device_token_async(device))
    while mock.device(device.user_code)["polls"] < 1:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    polls = mock.device(device.user_code)["polls"]
    # The Rust future was dropped: no poll follows, though the interval (1 s) passes twice.
    await asyncio.sleep(2.5)
    assert mock.device(device.user_code)["polls"] == polls


def test_ctrl_c_during_a_blocking_poll_raises_keyboard_interrupt(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(device_interval=1)
    device = client.create_device_code(["offline_access"])

    def interrupt_after_first_poll() -> None:
        mock.wait_until(lambda: mock.device(device.user_code)["polls"] >= 1, "the device was polled")
        _thread.interrupt_main()

    helper = threading.Thread(target=interrupt_after_first_poll, daemon=True)
    helper.start()
    with pytest.raises(KeyboardInterrupt):
        client.poll_device_token(device)
    helper.join(10)
    polls = mock.device(device.user_code)["polls"]
    # The task was cancelled too: polling does not go on in the background.
    time.sleep(2.5)
    assert mock.device(device.user_code)["polls"] == polls


def test_ctrl_c_during_a_slow_token_fetch_raises_keyboard_interrupt(
    client: OAuthClient, mock: MockServer
) -> None:
    mock.config(latency_ms=5000)
    provider = client.token_provider()

    def interrupt_once_the_request_arrived() -> None:
        mock.wait_until(lambda: mock.requests("/v2/token") == 1, "the token request arrived")
        _thread.interrupt_main()

    helper = threading.Thread(target=interrupt_once_the_request_arrived, daemon=True)
    helper.start()
    with pytest.raises(KeyboardInterrupt):
        provider.token()
    helper.join(10)
    # The fetch was cancelled, not waited for: nothing was cached.
    assert provider.cached() is None
    assert provider.stats().fetches <= 1
    # The cancelled fetch left nothing behind: the next call fetches normally.
    mock.config(latency_ms=0)
    assert provider.token().access_token
