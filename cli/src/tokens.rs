//! `token` and `refresh`: access tokens out of the token file.
//!
//! A person's login is renewed by the core's `TokenProvider` on the shared `FileStore`: it
//! re-reads the file under the login's lock before it refreshes, so several processes sharing
//! the file (other `twilio-oauth token` calls, an app using the same file) renew once and never
//! send a refresh token twice. The app's own token (`--app`) goes through a provider on the same
//! file, so it is reused between invocations while it is fresh.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use twilio_oauth::{
    CacheKey, Error, GrantKind, OAuthClient, OAuthClientBuilder, ProviderOptions, Token,
    TokenProvider,
};

use crate::cli::{RefreshArgs, ServerArgs, TokenArgs};
use crate::commands::{base_url, build_client, pretty, required};
use crate::exit::{self, Failure};
use crate::store::{self, LoginFilter};
use crate::timefmt;
use crate::ui::{self, check, cyan, dim};

/// A token printed by `token` has at least this long left (or half its lifetime, if less):
/// enough for a script to use it.
pub const MIN_TIME_LEFT: Duration = Duration::from_secs(300);

/// Provider options every command uses: the token file as the store, and no refresh-ahead. A
/// one-shot process must not start a background refresh and exit under it (a refresh that
/// consumed the refresh token but was never saved would cost the person their login).
fn options(store: Option<&store::Store>) -> ProviderOptions {
    ProviderOptions {
        store: store.map(|s| Arc::new(s.clone()) as Arc<dyn twilio_oauth::TokenStore>),
        refresh_ahead: Some(Duration::ZERO),
        expiry_margin: Some(MIN_TIME_LEFT),
        ..ProviderOptions::default()
    }
}

/// A provider for the stored login `key`: a user provider whose key is exactly `key`.
pub fn login_provider(
    client: &OAuthClient,
    key: &CacheKey,
    store: &store::Store,
) -> Result<TokenProvider, Failure> {
    let provider = client.token_provider(ProviderOptions {
        grant: Some(GrantKind::User),
        account: key.subject().map(str::to_owned),
        account_sid: key.account_sid().map(str::to_owned),
        scope: key.scope().map(str::to_owned),
        audience: key.audience().map(str::to_owned),
        ..options(Some(store))
    });
    if provider.cache_key() != key {
        return Err(Failure::new(
            exit::OTHER,
            format!(
                "internal error: the stored login {} cannot be opened (its key is not rebuilt exactly)",
                store::describe_login(key, true)
            ),
        ));
    }
    Ok(provider)
}

/// The client of a command that may renew a device login: client id, secret (confidential
/// apps) and the account's SID and auth token (device logins renew through /v1/token).
fn renewing_client(
    client_id: &str,
    secret: Option<&str>,
    account_sid: Option<&str>,
    auth_token: Option<&str>,
    server: &ServerArgs,
) -> Result<OAuthClient, Failure> {
    let mut builder: OAuthClientBuilder = OAuthClient::builder().client_id(client_id);
    let given = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(secret) = given(secret) {
        builder = builder.client_secret(secret);
    }
    if let Some(sid) = given(account_sid) {
        builder = builder.account_sid(sid);
    }
    if let Some(token) = given(auth_token) {
        builder = builder.auth_token(token);
    }
    build_client(builder, server)
}

/// A failed renewal of `key`'s login, with what to do next. `labelled`: the login was stored
/// under an account label (`device-login --account`), which signing in again must repeat.
fn login_failure(
    e: &Error,
    key: &CacheKey,
    labelled: bool,
    server: &str,
    can_use_v1: bool,
) -> Failure {
    match e {
        Error::LoginRequired(api) => {
            let again = match key.subject() {
                Some(account) if labelled => {
                    format!("twilio-oauth device-login --account {account}")
                }
                _ => "twilio-oauth device-login".to_owned(),
            };
            Failure::from_core(e, server)
                .message(format!(
                    "the login of {} can no longer be renewed: {api}",
                    store::person(key)
                ))
                .hint(format!("sign in again with `{again}`"))
        }
        Error::Config { .. } if !can_use_v1 => Failure::from_core(e, server).hint(
            "a device login is renewed through /v1/token: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or pass --account-sid and --auth-token)",
        ),
        _ => Failure::from_core(e, server),
    }
}

/// True when both credentials of the /v1 endpoints were given.
fn has_v1_credentials(account_sid: Option<&str>, auth_token: Option<&str>) -> bool {
    [account_sid, auth_token]
        .iter()
        .all(|v| v.is_some_and(|v| !v.trim().is_empty()))
}

/// True when `key`'s subject is an account label rather than the person's id from the token.
fn labelled(key: &CacheKey, stored: Option<&Token>) -> bool {
    key.subject().is_some() && stored.and_then(Token::subject).as_deref() != key.subject()
}

/// Warns when the provider could not use the token file (its error is in the -v log).
fn warn_on_store_errors(provider: &TokenProvider, path: &str, what: &str) {
    if provider.stats().store_errors > 0 {
        ui::print_warning(&format!(
            "the token file {path} could not be used: {what} (run with -v to see why)"
        ));
    }
}

/// `token`.
pub async fn token(args: TokenArgs) -> Result<(), Failure> {
    let client_id = required(
        args.client_id,
        "client id",
        "--client-id",
        "TWILIO_CLIENT_ID",
    )?;
    let store = store::open(&args.store)?;
    let path = store.describe();
    let server = base_url(&args.server).to_owned();
    if args.app {
        let secret = required(
            args.client_secret,
            "client secret",
            "--client-secret",
            "TWILIO_CLIENT_SECRET",
        )?;
        let client = build_client(
            OAuthClient::builder()
                .client_id(client_id)
                .client_secret(secret),
            &args.server,
        )?;
        // The token file is only a cache here: an unusable one costs a request, not the token.
        let usable = match store::entries(&store).await {
            Ok(_) => Some(&store),
            Err(f) => {
                ui::print_warning(&format!("{}; the app token is not cached", f.message));
                None
            }
        };
        let provider = client.token_provider(ProviderOptions {
            grant: Some(GrantKind::App),
            scope: args.scope,
            audience: args.audience,
            ..options(usable)
        });
        let token = provider
            .token()
            .await
            .map_err(|e| Failure::from_core(&e, &server))?;
        warn_on_store_errors(&provider, &path, "the app token is not cached");
        print_token(&token, provider.cache_key(), args.json);
        return Ok(());
    }

    let can_use_v1 = has_v1_credentials(args.account_sid.as_deref(), args.auth_token.as_deref());
    let client = renewing_client(
        &client_id,
        args.client_secret.as_deref(),
        args.account_sid.as_deref(),
        args.auth_token.as_deref(),
        &args.server,
    )?;
    let here = store::base_url_of(&client);
    let everyone = store::logins(
        &store,
        &LoginFilter {
            base_url: Some(&here),
            client_id: Some(client.client_id()),
            scope: args.scope.as_deref(),
            audience: args.audience.as_deref(),
            ..LoginFilter::default()
        },
    )
    .await?;
    let mut chosen: Vec<CacheKey> = everyone
        .iter()
        .filter(|k| {
            args.account
                .as_deref()
                .is_none_or(|a| k.subject() == Some(a))
        })
        .cloned()
        .collect();
    let key = match chosen.len() {
        1 => chosen.remove(0),
        0 => {
            return Err(not_signed_in(
                &args.account,
                &everyone,
                &client,
                &here,
                &path,
            ));
        }
        n => {
            let list: Vec<String> = chosen
                .iter()
                .map(|k| store::describe_login(k, false))
                .collect();
            let hint = if args.account.is_some()
                || chosen.iter().all(|k| k.subject() == chosen[0].subject())
            {
                "choose one with --scope or --audience"
            } else {
                "choose one with --account LABEL (see `twilio-oauth status`)"
            };
            return Err(Failure::usage(format!(
                "{n} logins are stored for {} at {here}: {}",
                client.client_id(),
                list.join("; ")
            ))
            .hint(hint));
        }
    };
    let labelled = labelled(&key, store::load(&store, &key.to_string()).await?.as_ref());
    let provider = login_provider(&client, &key, &store)?;
    let token = provider
        .token()
        .await
        .map_err(|e| login_failure(&e, &key, labelled, &server, can_use_v1))?;
    warn_on_store_errors(
        &provider,
        &path,
        "a renewed login may not have been saved, and may need a new sign-in next time",
    );
    print_token(&token, provider.cache_key(), args.json);
    Ok(())
}

/// Nobody (or not the person asked for) is signed in to this app at this server.
fn not_signed_in(
    account: &Option<String>,
    everyone: &[CacheKey],
    client: &OAuthClient,
    here: &str,
    path: &str,
) -> Failure {
    let id = client.client_id();
    match account {
        Some(account) => {
            let others: Vec<&str> = everyone.iter().map(store::person).collect();
            let known = if others.is_empty() {
                String::new()
            } else {
                format!(" (stored: {})", others.join(", "))
            };
            Failure::usage(format!(
                "not signed in as {account}: no stored login of {id} at {here} for that account{known}"
            ))
            .hint(format!(
                "sign in with `twilio-oauth device-login --account {account}`"
            ))
        }
        None => {
            let hint = if client.has_client_secret() {
                "sign in with `twilio-oauth device-login`, or pass --app for the app's own token (client credentials)"
            } else {
                "sign in with `twilio-oauth device-login`"
            };
            Failure::usage(format!(
                "not signed in: no stored login of {id} at {here} in {path}"
            ))
            .hint(hint)
        }
    }
}

/// Prints the access token alone, or (`--json`) the token without its refresh token: that
/// stays in the token file, where the shared renewal can rotate it safely.
fn print_token(token: &Token, key: &CacheKey, json: bool) {
    if !json {
        println!("{}", token.access_token().secret());
        return;
    }
    let mut out = Map::new();
    out.insert("access_token".into(), token.access_token().secret().into());
    out.insert("token_type".into(), token.token_type().into());
    out.insert("expires_in".into(), token.expires_in().as_secs().into());
    out.insert(
        "expires_at".into(),
        timefmt::rfc3339(token.expires_at()).into(),
    );
    if let Some(scope) = token.scope() {
        out.insert("scope".into(), scope.into());
    }
    out.insert("grant".into(), key.grant().as_str().into());
    if let Some(account) = key.subject() {
        out.insert("account".into(), account.into());
    }
    if let Some(id) = token.id_token() {
        out.insert("id_token".into(), id.secret().into());
    }
    println!("{}", pretty(&Value::Object(out)));
}

/// `refresh`.
pub async fn refresh(args: RefreshArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.describe();
    let server = base_url(&args.server).to_owned();
    let candidates = store::logins(
        &store,
        &LoginFilter {
            client_id: args.client_id.as_deref(),
            account: args.account.as_deref(),
            ..LoginFilter::default()
        },
    )
    .await?;
    // Logins of the server this command talks to (--base-url, TWILIO_OAUTH_BASE_URL or the
    // default), compared as the core spells base URLs in keys.
    let mut chosen = Vec::new();
    for key in candidates {
        let client = renewing_client(
            key.client_id(),
            args.client_secret.as_deref(),
            args.account_sid.as_deref(),
            args.auth_token.as_deref(),
            &args.server,
        )?;
        if store::base_url_of(&client) == key.base_url() {
            chosen.push((key, client));
        }
    }
    let (key, client) = match chosen.len() {
        1 => chosen.remove(0),
        0 => {
            let mut what = String::from("no stored login");
            if let Some(id) = &args.client_id {
                what.push_str(&format!(" of {id}"));
            }
            if let Some(account) = &args.account {
                what.push_str(&format!(" for {account}"));
            }
            return Err(Failure::usage(format!("{what} at {server} in {path}"))
                .hint("sign in first with `twilio-oauth device-login`"));
        }
        n => {
            let list: Vec<String> = chosen
                .iter()
                .map(|(k, _)| store::describe_login(k, true))
                .collect();
            return Err(
                Failure::usage(format!("{n} logins are stored: {}", list.join("; ")))
                    .hint("choose one with --client-id or --account"),
            );
        }
    };
    let before = store::load(&store, &key.to_string()).await?;
    if before.as_ref().is_none_or(|t| t.refresh_token().is_none()) {
        return Err(Failure::usage(format!(
            "the stored login of {} has no refresh token",
            store::person(&key)
        ))
        .hint("sign in again with `twilio-oauth device-login --scope offline_access`"));
    }
    let can_use_v1 = has_v1_credentials(args.account_sid.as_deref(), args.auth_token.as_deref());
    let labelled = labelled(&key, before.as_ref());
    let fail = |e: Error| login_failure(&e, &key, labelled, &server, can_use_v1);
    let provider = login_provider(&client, &key, &store)?;
    // The first call takes the stored token (or renews it if it is about to expire; another
    // process may have renewed it already). If it is still the stored one, drop it and renew:
    // the renewal re-reads the file under the login's lock, so it never replays a refresh
    // token another process has just used.
    let mut token = provider.token().await.map_err(fail)?;
    if before
        .as_ref()
        .is_some_and(|b| b.access_token() == token.access_token())
    {
        provider.invalidate();
        token = provider.token().await.map_err(fail)?;
    }
    warn_on_store_errors(
        &provider,
        &path,
        "the renewed login may not have been saved, and may need a new sign-in next time",
    );
    let field = |name: &str| dim(format!("{name:<15}"));
    println!(
        "{} Refreshed the login of {} ({})",
        check(),
        cyan(store::person(&key)),
        key.client_id()
    );
    println!(
        "  {}{}, {} ({})",
        field("access token"),
        twilio_oauth::preview(token.access_token().secret()),
        timefmt::expiry(token.expires_at()),
        timefmt::date(token.expires_at())
    );
    println!("  {}{path}", field("saved to"));
    Ok(())
}
