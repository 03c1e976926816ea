"""Quick start: a cached client-credentials token for API calls.

Reads TWILIO_CLIENT_ID and TWILIO_CLIENT_SECRET; TWILIO_OAUTH_BASE_URL points it at another
OAuth server (the local mock server in CI).
"""

import os

from twilio_oauth import OAuthClient

client = OAuthClient(base_url=os.environ.get("TWILIO_OAUTH_BASE_URL", "https://oauth.twilio.com"))
provider = client.token_provider()  # one cached token, shared by every thread and task
token = provider.token()  # fetched once; then refreshed in the background before it expires
print(token)  # Bearer eyJhbGci…(… chars) (expires in 3599s): never the token itself
headers = {"Authorization": provider.authorization_header()}  # a cache hit, no I/O
print(headers["Authorization"][:7], token.expires_at.isoformat(), provider.stats())
