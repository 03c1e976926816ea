//! The short commands: `token`, `refresh`, `decode`, `status`, `logout`, `serve-mock`.

use std::io::{IsTerminal, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde_json::{Map, Value, json};
use twilio_oauth::{
    DEFAULT_BASE_URL, FileStore, OAuthClient, OAuthClientBuilder, Token, TokenStore, decode_claims,
    decode_header,
};
use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockServer, PUBLIC_CLIENT_ID,
};

use crate::cli::{
    DecodeArgs, LogoutArgs, RefreshArgs, ServeMockArgs, ServerArgs, StatusArgs, TokenArgs,
};
use crate::exit::{self, Failure};
use crate::store::{self, KeyInfo};
use crate::timefmt;
use crate::ui::{self, bold, check, cyan, dim, yellow};

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
    builder.build().map_err(Failure::from)
}

/// The server a command talks to, for messages.
pub fn base_url(server: &ServerArgs) -> &str {
    server.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
}

/// `token`.
pub async fn token(args: TokenArgs) -> Result<(), Failure> {
    let client_id = required(
        args.client_id,
        "client id",
        "--client-id",
        "TWILIO_CLIENT_ID",
    )?;
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
    let token = client
        .client_credentials(args.scope.as_deref(), args.audience.as_deref())
        .await
        .map_err(|e| Failure::from_core(&e, base_url(&args.server)))?;
    if args.json {
        println!("{}", pretty(&token_json(&token)));
    } else {
        println!("{}", token.access_token().secret());
    }
    Ok(())
}

/// The whole token, secrets included: only `token --json` prints this.
fn token_json(token: &Token) -> Value {
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
    if let Some(rt) = token.refresh_token() {
        out.insert("refresh_token".into(), rt.secret().into());
    }
    if let Some(id) = token.id_token() {
        out.insert("id_token".into(), id.secret().into());
    }
    Value::Object(out)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// A stored login: its key, what the key says, and the token (when readable).
struct Stored {
    key: String,
    info: KeyInfo,
    token: Option<Token>,
}

async fn load_all(store: &FileStore) -> Result<Vec<Stored>, Failure> {
    let mut out = Vec::new();
    for key in store.keys() {
        let token = store.load(&key).await?;
        out.push(Stored {
            info: KeyInfo::parse(&key),
            key,
            token,
        });
    }
    Ok(out)
}

/// `refresh`.
pub async fn refresh(args: RefreshArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.path().display().to_string();
    let mut entries: Vec<Stored> = load_all(&store)
        .await?
        .into_iter()
        .filter(|s| {
            args.client_id.is_none() || s.info.client_id.as_deref() == args.client_id.as_deref()
        })
        .collect();
    if entries.is_empty() {
        let what = match &args.client_id {
            Some(id) => format!("no stored login for {id} in {path}"),
            None => format!("no stored login in {path}"),
        };
        return Err(Failure::usage(what).hint("sign in first with `twilio-oauth device-login`"));
    }
    entries.retain(|s| {
        s.token
            .as_ref()
            .is_some_and(|t| t.refresh_token().is_some())
    });
    let entry = match entries.len() {
        0 => {
            return Err(Failure::usage("the stored token has no refresh token")
                .hint("sign in again with `twilio-oauth device-login --scope offline_access`"));
        }
        1 => entries.remove(0),
        n => {
            let ids: Vec<String> = entries
                .iter()
                .filter_map(|s| s.info.client_id.clone())
                .collect();
            return Err(
                Failure::usage(format!("{n} logins are stored: {}", ids.join(", ")))
                    .hint("choose one with --client-id"),
            );
        }
    };
    let client_id = entry
        .info
        .client_id
        .clone()
        .or(args.client_id.clone())
        .ok_or_else(|| {
            Failure::usage(format!(
                "cannot tell which app the stored token of {path} belongs to"
            ))
            .hint("pass --client-id")
        })?;
    let refresh_token = entry
        .token
        .as_ref()
        .and_then(|t| t.refresh_token())
        .map(|t| t.secret().to_owned())
        .unwrap_or_default();
    let mut builder = OAuthClient::builder().client_id(&client_id);
    if let Some(secret) = args.client_secret.filter(|s| !s.trim().is_empty()) {
        builder = builder.client_secret(secret);
    }
    let client = build_client(builder, &args.server)?;
    let token = client
        .refresh(&refresh_token)
        .await
        .map_err(|e| Failure::from_core(&e, base_url(&args.server)))?;
    store.save(&entry.key, &token).await?;
    let field = |name: &str| dim(format!("{name:<15}"));
    println!("{} Refreshed the login of {}", check(), cyan(&client_id));
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

fn grant_label(info: &KeyInfo) -> &'static str {
    match info.grant.as_deref() {
        Some("user") => "device login",
        Some("client_credentials") => "client credentials",
        _ => "token",
    }
}

/// `status`.
pub async fn status(args: StatusArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.path().display().to_string();
    let entries = load_all(&store).await?;
    if args.json {
        let tokens: Vec<Value> = entries
            .iter()
            .map(|s| {
                let t = s.token.as_ref();
                json!({
                    "key": s.key,
                    "client_id": s.info.client_id,
                    "grant": s.info.grant,
                    "scope": t.and_then(|t| t.scope().map(str::to_owned)).or(s.info.scope.clone()),
                    "audience": s.info.audience,
                    "readable": t.is_some(),
                    "expires_at": t.map(|t| timefmt::rfc3339(t.expires_at())),
                    "expires_in": t.map(|t| t.expires_in().as_secs()),
                    "expired": t.map(Token::is_expired),
                    "has_refresh_token": t.is_some_and(|t| t.refresh_token().is_some()),
                    "has_id_token": t.is_some_and(|t| t.id_token().is_some()),
                })
            })
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
    for s in &entries {
        println!();
        println!(
            "  {}  {}",
            bold(cyan(s.info.client_id.as_deref().unwrap_or(&s.key))),
            dim(grant_label(&s.info))
        );
        let Some(t) = &s.token else {
            println!(
                "    {}",
                yellow("unreadable entry: `twilio-oauth logout` removes it")
            );
            continue;
        };
        if let Some(scope) = t.scope().map(str::to_owned).or(s.info.scope.clone()) {
            println!("    {}  {scope}", dim("scope        "));
        }
        if let Some(aud) = &s.info.audience {
            println!("    {}  {aud}", dim("audience     "));
        }
        let expiry = timefmt::expiry(t.expires_at());
        let expiry = if t.is_expired() {
            yellow(expiry).to_string()
        } else {
            ui::green(expiry).to_string()
        };
        println!(
            "    {}  {expiry} ({})",
            dim("access token "),
            timefmt::date(t.expires_at())
        );
        let refresh = if t.refresh_token().is_some() {
            "stored: `twilio-oauth refresh` renews the access token"
        } else {
            "none"
        };
        println!("    {}  {refresh}", dim("refresh token"));
        if t.id_token().is_some() {
            println!("    {}  stored", dim("id token     "));
        }
    }
    Ok(())
}

/// `logout`.
pub async fn logout(args: LogoutArgs) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let path = store.path().display().to_string();
    let keys: Vec<String> = store
        .keys()
        .into_iter()
        .filter(|k| {
            args.client_id.is_none()
                || KeyInfo::parse(k).client_id.as_deref() == args.client_id.as_deref()
        })
        .collect();
    for key in &keys {
        store.delete(key).await?;
    }
    match keys.len() {
        0 => println!("Nothing to delete: no stored tokens in {path}"),
        1 => println!("{} Deleted 1 stored token from {path}", check()),
        n => println!("{} Deleted {n} stored tokens from {path}", check()),
    }
    Ok(())
}

/// `serve-mock`.
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
    println!("Try: twilio-oauth token | twilio-oauth decode");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::new(exit::OTHER, format!("cannot wait for Ctrl-C: {e}")))?;
    drop(server);
    println!("stopped");
    Ok(())
}
