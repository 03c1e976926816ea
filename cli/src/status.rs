//! `status` and `logout`: what the token file holds, and deleting it.

use serde_json::{Value, json};
use twilio_oauth::{CacheKey, GrantKind, Token, TokenStore};

use crate::cli::{LogoutArgs, StatusArgs};
use crate::commands::pretty;
use crate::exit::Failure;
use crate::store::{self, Entry, OLD_FORMAT};
use crate::timefmt;
use crate::ui::{self, bold, check, cyan, dim, yellow};

/// "user alice@example.com", "app OQ…", or "unknown (old format)": whose token an entry is.
fn whose(key: Option<&CacheKey>) -> String {
    match key {
        Some(k) if k.grant() == GrantKind::User => format!("user {}", store::person(k)),
        Some(k) => format!("app {}", k.client_id()),
        None => OLD_FORMAT.to_owned(),
    }
}

fn entry_json(entry: &Entry, token: Option<&Token>) -> Value {
    let k = entry.parsed.as_ref();
    json!({
        "key": entry.key,
        "old_format": k.is_none(),
        "grant": k.map(|k| k.grant().as_str()),
        "account": k.and_then(CacheKey::subject),
        "subject": token.and_then(Token::subject),
        "client_id": k.map(CacheKey::client_id),
        "base_url": k.map(CacheKey::base_url),
        "account_sid": k.and_then(CacheKey::account_sid),
        "scope": k.and_then(CacheKey::scope).map(str::to_owned)
            .or_else(|| token.and_then(|t| t.scope().map(str::to_owned))),
        "audience": k.and_then(CacheKey::audience),
        "readable": token.is_some(),
        "expires_at": token.map(|t| timefmt::rfc3339(t.expires_at())),
        "expires_in": token.map(|t| t.expires_in().as_secs()),
        "expired": token.map(Token::is_expired),
        "has_refresh_token": token.is_some_and(|t| t.refresh_token().is_some()),
        "has_id_token": token.is_some_and(|t| t.id_token().is_some()),
    })
}

fn print_entry(entry: &Entry, token: Option<&Token>) {
    let k = entry.parsed.as_ref();
    let line = |name: &str, value: &str| println!("    {}  {value}", dim(format!("{name:<13}")));
    println!();
    match k {
        Some(k) if k.grant() == GrantKind::User => {
            println!("  {} {}", bold("user"), bold(cyan(store::person(k))))
        }
        Some(k) => println!(
            "  {} {}  {}",
            bold("app"),
            bold(cyan(k.client_id())),
            dim("the app's own token (client credentials)")
        ),
        None => println!("  {}", bold(yellow(OLD_FORMAT))),
    }
    let subject = token.and_then(Token::subject);
    match k {
        Some(k) => {
            if k.grant() == GrantKind::User
                && let Some(sub) = subject.as_deref().filter(|s| Some(*s) != k.subject())
            {
                line("person id", sub);
            }
            line("client id", k.client_id());
            line("base URL", k.base_url());
            if let Some(sid) = k.account_sid() {
                line("account SID", sid);
            }
            let scope = k.scope().or_else(|| token.and_then(Token::scope));
            line("scope", scope.unwrap_or("(none)"));
            if let Some(audience) = k.audience() {
                line("audience", audience);
            }
        }
        None => line("key", &entry.key),
    }
    let Some(t) = token else {
        println!(
            "    {}",
            yellow("unreadable entry: `twilio-oauth logout` removes it")
        );
        return;
    };
    let expiry = timefmt::expiry(t.expires_at());
    let expiry = if t.is_expired() {
        yellow(expiry).to_string()
    } else {
        ui::green(expiry).to_string()
    };
    line(
        "access token",
        &format!("{expiry} ({})", timefmt::date(t.expires_at())),
    );
    let refresh = match (k.map(CacheKey::grant), t.refresh_token().is_some()) {
        (Some(GrantKind::User), true) => {
            "present: `twilio-oauth token` renews the access token when it expires"
        }
        (Some(GrantKind::User), false) => "none: sign in again when the access token expires",
        (Some(GrantKind::App), _) => "none (the app asks for a new token when this one expires)",
        (None, true) => "present",
        (None, false) => "none",
    };
    line("refresh token", refresh);
    if t.id_token().is_some() {
        line("id token", "present");
    }
    if k.is_none() {
        println!(
            "    {}",
            yellow("written by an earlier version and not used: `twilio-oauth logout` removes it")
        );
    }
}

/// `status`.
pub async fn status(args: StatusArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.describe();
    let mut entries = Vec::new();
    for entry in store::entries(&store).await? {
        let token = store::load(&store, &entry.key).await?;
        entries.push((entry, token));
    }
    if args.json {
        let tokens: Vec<Value> = entries
            .iter()
            .map(|(e, t)| entry_json(e, t.as_ref()))
            .collect();
        println!("{}", pretty(&json!({ "store": path, "tokens": tokens })));
    }
    if entries.is_empty() {
        return Err(
            Failure::usage(format!("not signed in: no stored tokens in {path}"))
                .hint("sign in with `twilio-oauth device-login`"),
        );
    }
    if args.json {
        return Ok(());
    }
    println!("{} {path}", dim("Token file"));
    for (entry, token) in &entries {
        print_entry(entry, token.as_ref());
    }
    Ok(())
}

/// `logout`.
pub async fn logout(args: LogoutArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.describe();
    let doomed: Vec<Entry> = store::entries(&store)
        .await?
        .into_iter()
        .filter(|e| match &e.parsed {
            Some(k) => {
                args.client_id.as_deref().is_none_or(|c| k.client_id() == c)
                    && args
                        .account
                        .as_deref()
                        .is_none_or(|a| k.subject() == Some(a))
            }
            // Written by an earlier version: nothing can use it, so every logout removes it.
            None => true,
        })
        .collect();
    for entry in &doomed {
        // Under the entry's lock, so that a renewal under way in another process finishes
        // (and saves) before the entry goes, instead of writing it back afterwards.
        let _lock = store.lock(&entry.key).await?;
        store.delete(&entry.key).await?;
    }
    match doomed.len() {
        0 => println!("Nothing to delete: no matching stored tokens in {path}"),
        1 => println!("{} Deleted 1 stored token from {path}", check()),
        n => println!("{} Deleted {n} stored tokens from {path}", check()),
    }
    for entry in &doomed {
        println!("  {}", whose(entry.parsed.as_ref()));
    }
    Ok(())
}
