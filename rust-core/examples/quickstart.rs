//! The README's Rust quick start. CI runs it against the local Twilio OAuth server:
//! `TWILIO_OAUTH_BASE_URL=http://127.0.0.1:PORT cargo run -p twilio-oauth --example quickstart`.

use twilio_oauth::{OAuthClient, ProviderOptions};

#[tokio::main]
async fn main() -> twilio_oauth::Result<()> {
    // TWILIO_CLIENT_ID, TWILIO_CLIENT_SECRET (and TWILIO_OAUTH_BASE_URL for a local server).
    let client = OAuthClient::from_env()?;
    let provider = client.token_provider(ProviderOptions::default());
    let header = provider.authorization_header().await?; // one request, then cached
    let again = provider.token().await?; // served from the cache
    println!("{} chars of header; token {again}", header.len());
    println!("{:?}", provider.stats()); // hits: 1, fetches: 1
    Ok(())
}
