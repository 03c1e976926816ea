//! Helpers the commands share, and the short commands: `decode`, `serve-mock`.

use std::io::{IsTerminal, Read};
#[cfg(feature = "local-server")]
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde_json::{Map, Value, json};
use twilio_oauth::{
    DEFAULT_BASE_URL, OAuthClient, OAuthClientBuilder, decode_claims, decode_header,
};
#[cfg(feature = "local-server")]
use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer, PUBLIC_CLIENT_ID,
};

#[cfg(feature = "local-server")]
use crate::cli::ServeMockArgs;
use crate::cli::{DecodeArgs, ServerArgs};
#[cfg(feature = "local-server")]
use crate::exit;
use crate::exit::Failure;
use crate::timefmt;
use crate::ui::{self, bold, cyan, dim, yellow};

/// An option that must be given, as a flag or through the environment.
pub fn required(
    value: Option<String>,
    what: &str,
    flag: &str,
    env: &str,
) -> Result<String, Failure> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Failure::usage(format!("no {what}: set {env} or pass {flag}")))
}

/// Finishes a client builder with the server options.
pub fn build_client(
    builder: OAuthClientBuilder,
    server: &ServerArgs,
) -> Result<OAuthClient, Failure> {
    if server.timeout == 0 {
        return Err(Failure::usage("--timeout must be at least 1 second"));
    }
    let mut builder = builder
        .language("cli")
        .timeout(Duration::from_secs(server.timeout));
    if let Some(url) = &server.base_url {
        builder = builder.base_url(url);
    }
    if let Some(file) = &server.ca_file {
        builder = builder.ca_file(file);
    }
    if let Some(proxy) = &server.proxy {
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(Failure::from)
}

/// The server a command talks to, for messages.
pub fn base_url(server: &ServerArgs) -> &str {
    server.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
}

/// `v` as indented JSON.
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Claims that hold times.
const TIME_CLAIMS: [&str; 4] = ["exp", "iat", "nbf", "auth_time"];

/// `decode`.
pub fn decode(args: DecodeArgs) -> Result<(), Failure> {
    let raw = match args.token.as_deref() {
        Some("-") => read_stdin()?,
        None if std::io::stdin().is_terminal() => {
            return Err(Failure::usage("no token given").hint(
                "pass it as an argument, or pipe it: twilio-oauth token | twilio-oauth decode",
            ));
        }
        None => read_stdin()?,
        Some(t) => t.to_owned(),
    };
    let mut token = raw.trim();
    if token.len() > 7 && token[..7].eq_ignore_ascii_case("bearer ") {
        token = token[7..].trim();
    }
    if token.is_empty() {
        return Err(
            Failure::usage("no token given").hint("pass the token as an argument or on stdin")
        );
    }
    let (Some(header), Some(claims)) = (decode_header(token), decode_claims(token)) else {
        return Err(Failure::usage(
            "this is not a JWT (expected three base64url parts separated by dots, with JSON header and claims)",
        )
        .hint("opaque tokens carry no readable claims; ask the server that issued it"));
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .and_then(timefmt::from_unix);
    if args.json {
        let mut times = Map::new();
        for name in TIME_CLAIMS {
            if let Some(t) = claims
                .get(name)
                .and_then(Value::as_f64)
                .and_then(timefmt::from_unix)
            {
                times.insert(name.into(), timefmt::rfc3339(t).into());
            }
        }
        let expires_in = exp.map(|t| {
            t.duration_since(std::time::SystemTime::now())
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        let out = json!({
            "header": header,
            "claims": claims,
            "times": times,
            "expires_in": expires_in,
            "expired": exp.map(|t| t <= std::time::SystemTime::now()),
        });
        println!("{}", pretty(&out));
        return Ok(());
    }
    println!("{}", bold("Header"));
    print_fields(&header);
    println!();
    println!("{}", bold("Claims"));
    print_fields(&claims);
    println!();
    let status = match exp {
        Some(t) if t > std::time::SystemTime::now() => {
            ui::green(format!("valid, {}", timefmt::expiry(t))).to_string()
        }
        Some(t) => yellow(timefmt::expiry(t)).to_string(),
        None => "no expiry (no exp claim)".to_string(),
    };
    println!("{}  {status}", bold("Status"));
    println!(
        "{}",
        dim("The signature is not shown and was not verified.")
    );
    Ok(())
}

fn read_stdin() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut s)
        .map_err(|e| Failure::usage(format!("cannot read the token from stdin: {e}")))?;
    Ok(s)
}

fn print_fields(map: &Map<String, Value>) {
    let width = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (key, value) in map {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let when = TIME_CLAIMS
            .contains(&key.as_str())
            .then(|| value.as_f64().and_then(timefmt::from_unix))
            .flatten();
        match when {
            Some(t) => println!(
                "  {}  {}  {}",
                cyan(format!("{key:<width$}")),
                timefmt::date(t),
                dim(format!("({}, {shown})", timefmt::relative(t)))
            ),
            None => println!("  {}  {shown}", cyan(format!("{key:<width$}"))),
        }
    }
}

/// `serve-mock`.
#[cfg(feature = "local-server")]
pub async fn serve_mock(args: ServeMockArgs) -> Result<(), Failure> {
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--host {:?} is not an address to listen on",
                args.host
            ))
        })?;
    let server = MockServer::bind(addr).await.map_err(|e| {
        Failure::new(exit::NETWORK, format!("cannot listen on {addr}: {e}"))
            .hint("choose another port with --port (0 picks a free one)")
    })?;
    let url = server.url();
    println!("listening on {url}");
    println!();
    println!("A local stand-in for oauth.twilio.com (and a sliver of api.twilio.com).");
    println!("Its fixed test credentials, ready to paste:");
    println!();
    println!("  export TWILIO_OAUTH_BASE_URL={url}");
    println!("  export TWILIO_CLIENT_ID={CLIENT_ID}");
    println!("  export TWILIO_CLIENT_SECRET={CLIENT_SECRET}");
    println!("  export TWILIO_ACCOUNT_SID={ACCOUNT_SID}");
    println!("  export TWILIO_AUTH_TOKEN={AUTH_TOKEN}");
    println!();
    println!("  {}  {PUBLIC_CLIENT_ID} (no secret)", dim("public app   "));
    println!("  {}  {url}/device", dim("approve codes"));
    println!(
        "  {}  {url}/2010-04-01/Accounts/{ACCOUNT_SID}.json",
        dim("API stand-in ")
    );
    println!();
    println!("Try: twilio-oauth token --app | twilio-oauth decode");
    println!("     twilio-oauth device-login, then twilio-oauth token");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::new(exit::OTHER, format!("cannot wait for Ctrl-C: {e}")))?;
    drop(server);
    println!("stopped");
    Ok(())
}
