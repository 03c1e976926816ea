"""A person's token: sign in once, keep the login in a FileStore, use it from any process.

Reads TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN;
TWILIO_OAUTH_BASE_URL points it at another OAuth server (in CI, the local mock server, which
approves the sign-in by itself).
"""

import os
import tempfile
from pathlib import Path

from twilio_oauth import FileStore, LoginRequiredError, OAuthClient

client = OAuthClient(base_url=os.environ.get("TWILIO_OAUTH_BASE_URL", "https://oauth.twilio.com"))
# One file for every process of the app, in a folder only this user can write (0700).
store = FileStore(Path(tempfile.mkdtemp()) / "tokens.json")

# Once: the person signs in (here with the device flow) and the login is saved under a label.
device = client.create_device_code(["openid", "offline_access"])
print(f"Open {device.verification_uri} and enter {device.user_code}")
login = client.poll_device_token(device)
client.token_provider(store=store, initial_token=login, account="alice").token()

# Any process, any time later: found by its label, refreshed when due by one process at a time.
provider = client.token_provider(store=store, account="alice")
try:
    headers = {"Authorization": provider.authorization_header()}
    print(provider.grant, provider.token().subject, headers["Authorization"][:7])
except LoginRequiredError:  # refresh refused, login revoked, session over: never an app token
    print("alice must sign in again")
