//! `device-login`: the device flow (RFC 8628) for a person at a terminal.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use twilio_oauth::{
    CancellationToken, DeviceAuthorization, GrantKind, OAuthClient, ProviderOptions, TokenStore,
    preview,
};

use crate::art;
use crate::cli::{DeviceLoginArgs, QrMode};
use crate::commands::{base_url, build_client, required};
use crate::exit::{self, Failure};
use crate::store;
use crate::timefmt;
use crate::ui::{self, bold, check, cyan, dim};

/// Runs the device flow and stores the tokens.
pub async fn run(args: DeviceLoginArgs) -> Result<(), Failure> {
    let client_id = required(
        args.client_id,
        "client id",
        "--client-id",
        "TWILIO_CLIENT_ID",
    )?;
    let account_sid = required(
        args.account_sid,
        "account SID",
        "--account-sid",
        "TWILIO_ACCOUNT_SID",
    )?;
    let auth_token = required(
        args.auth_token,
        "auth token",
        "--auth-token",
        "TWILIO_AUTH_TOKEN",
    )?;
    let scopes: Vec<String> = args
        .scopes
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    if scopes.is_empty() {
        return Err(Failure::usage("device login needs at least one --scope"));
    }
    let store = store::open(&args.store)?;
    let mut builder = OAuthClient::builder()
        .client_id(client_id)
        .account_sid(account_sid)
        .auth_token(auth_token);
    if let Some(secret) = args.client_secret.filter(|s| !s.trim().is_empty()) {
        builder = builder.client_secret(secret);
    }
    let client = build_client(builder, &args.server)?;
    let server = base_url(&args.server).to_owned();
    let fail = |e: twilio_oauth::Error| Failure::from_core(&e, &server);

    let device = client
        .create_device_code(&scopes, &args.audiences)
        .await
        .map_err(fail)?;

    let tty = ui::stdout_is_tty();
    let show_qr = match args.qr {
        QrMode::Always => true,
        QrMode::Never => false,
        QrMode::Auto => tty,
    };
    show_instructions(&device, tty, show_qr);

    let cancel = CancellationToken::new();
    // The handler is registered here, before the spinner says we are waiting: `ctrl_c()` only
    // registers when its task first runs, and a Ctrl-C before that killed the process outright.
    #[cfg(unix)]
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let on_ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            if let Some(signal) = interrupt.as_mut() {
                if signal.recv().await.is_some() {
                    cancel.cancel();
                }
                return;
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let spinner = (tty && ui::stderr_is_tty()).then(|| spinner(&device));
    let result = client
        .poll_device_token_with_cancel(&device, cancel.clone())
        .await;
    on_ctrl_c.abort();
    if let Some((bar, ticker)) = spinner {
        ticker.abort();
        bar.finish_and_clear();
    }
    let token = match result {
        Ok(token) => token,
        Err(twilio_oauth::Error::Cancelled) => {
            return Err(
                Failure::new(exit::CANCELLED, "cancelled: nothing was stored")
                    .hint("run `twilio-oauth device-login` again when you are ready"),
            );
        }
        Err(e) => return Err(fail(e)),
    };

    // A user provider for this person holds the login: on its first call it reconciles the new
    // token with the token file (the one issued later wins) and saves it under the login's key,
    // the key `twilio-oauth token` finds it by.
    let provider = client.token_provider(ProviderOptions {
        grant: Some(GrantKind::User),
        initial_token: Some(token.clone()),
        store: Some(Arc::new(store.clone())),
        account: args.account.filter(|a| !a.trim().is_empty()),
        scope: Some(scopes.join(" ")),
        audience: (!args.audiences.is_empty()).then(|| args.audiences.join(" ")),
        refresh_ahead: Some(Duration::ZERO),
        ..ProviderOptions::default()
    });
    let kept = provider.token().await.map_err(fail)?;
    // The provider logs store failures and goes on: saving again says why it failed. And the
    // login just completed replaces a stored one issued in the same second (JWT `iat` has
    // whole seconds), which the provider's "later one wins" leaves in place.
    let same_second =
        kept.access_token() != token.access_token() && kept.issued_at() <= token.issued_at();
    if provider.stats().store_errors > 0 || same_second {
        store.save(provider.key(), &token).await?;
    }
    let key = provider.cache_key();

    println!();
    println!("{} {}", check(), bold("Signed in."));
    let field = |name: &str| dim(format!("{name:<15}"));
    println!(
        "  {}{}, {} ({})",
        field("access token"),
        preview(token.access_token().secret()),
        timefmt::expiry(token.expires_at()),
        timefmt::date(token.expires_at())
    );
    println!("  {}{}", field("account"), store::person(key));
    if let Some(scope) = token.scope() {
        println!("  {}{scope}", field("scope"));
    }
    println!(
        "  {}{}",
        field("refresh token"),
        if token.refresh_token().is_some() {
            "stored (`twilio-oauth token` prints the access token and renews it when needed)"
        } else {
            "none (ask for --scope offline_access to get one)"
        }
    );
    if token.id_token().is_some() {
        println!("  {}stored", field("id token"));
    }
    println!("  {}{}", field("saved to"), store.describe());
    Ok(())
}

fn show_instructions(device: &DeviceAuthorization, tty: bool, show_qr: bool) {
    let code = device.user_code();
    let uri = device.verification_uri();
    let minutes = timefmt::duration(device.expires_in());
    if !tty {
        println!("To sign in, open {uri} and enter the code {code}");
        if let Some(full) = device.verification_uri_complete() {
            println!("(or open {full})");
        }
        if show_qr
            && let Some(qr) = device
                .verification_uri_complete()
                .and_then(|u| art::qr(u, false))
        {
            println!("{qr}");
        }
        println!("Waiting for approval (the code expires in {minutes}; Ctrl-C cancels)...");
        return;
    }
    println!();
    println!("  {}", bold("Sign in to Twilio"));
    println!();
    println!("  1. Open     {}", cyan(uri).underlined());
    println!("  2. Enter    {}", bold(code));
    println!();
    let width = console::Term::stdout().size().1 as usize;
    match art::big_text(code, width.saturating_sub(4)) {
        Some(big) => {
            for line in big.lines() {
                println!("    {}", bold(line));
            }
        }
        None => {
            let spaced: String = code.chars().map(|c| format!("{c} ")).collect();
            let inner = format!("   {}  ", spaced.trim_end());
            let bar = "─".repeat(inner.chars().count());
            println!("    ┌{bar}┐");
            println!("    │{}│", bold(inner));
            println!("    └{bar}┘");
        }
    }
    if show_qr
        && let Some(full) = device.verification_uri_complete()
        && let Some(qr) = art::qr(full, ui::colors())
    {
        println!();
        println!("  Or scan this with your phone (it opens the page with the code filled in):");
        println!();
        for line in qr.lines() {
            println!("    {line}");
        }
    }
    println!();
}

/// A spinner on stderr with the time left, updated every second.
fn spinner(device: &DeviceAuthorization) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("  {spinner:.cyan} {msg}") {
        bar.set_style(style.tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✓"]));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    let message = |left: Duration| {
        format!(
            "Waiting for approval… the code expires in {}  {}",
            timefmt::countdown(left),
            dim("(Ctrl-C to cancel)")
        )
    };
    bar.set_message(message(device.expires_in()));
    let ticker = {
        let bar = bar.clone();
        let device = device.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                bar.set_message(message(device.expires_in()));
            }
        })
    };
    (bar, ticker)
}
