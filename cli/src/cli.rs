//! The command line's grammar: every command, option and environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::exit;

/// Twilio OAuth from the terminal: access tokens, device login, token inspection, and a local
/// demo of every flow.
#[derive(Debug, Parser)]
#[command(
    name = "twilio-oauth",
    version,
    about,
    long_about = "Twilio OAuth from the terminal: device login for people and their access tokens, \
client-credentials tokens for apps, token refresh and inspection, and `demo`, which runs every flow against a local Twilio OAuth \
server in a few seconds.\n\nStart with:  twilio-oauth demo",
    after_help = exit::HELP,
    propagate_version = true
)]
pub struct Cli {
    /// More log output on stderr (-v: warnings, -vv: debug). RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, display_order = 100)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every flow against a local Twilio OAuth server and show what happens (about 10 s).
    #[cfg(feature = "local-server")]
    #[command(after_help = exit::HELP)]
    Demo,

    /// Run the local Twilio OAuth server on a port until Ctrl-C.
    #[cfg(feature = "local-server")]
    #[command(name = "serve-mock", after_help = exit::HELP)]
    ServeMock(ServeMockArgs),

    /// Print the signed-in person's access token, renewed when needed (alone, so
    /// `$(twilio-oauth token)` works); `--app` prints the app's own token instead.
    #[command(
        long_about = "Print an access token alone on stdout, so `$(twilio-oauth token)` works.\n\n\
Without --app: the token of the person signed in with `device-login` for this client id and \
base URL, renewed with its refresh token when less than 5 minutes (or half its lifetime) are left. The renewal goes through \
the token file under a lock, so several processes sharing the file (other `token` calls, an app \
using the same file) renew once and never replay a refresh token. With several people signed \
in, --account picks one. If nobody is signed in, it fails (exit 2) and never falls back to the \
app's token; if the login can no longer be renewed, it fails with exit 7: sign in again.\n\n\
With --app: the app's own token (client credentials; needs the client secret), kept in the \
token file and reused while it is fresh.",
        after_help = exit::HELP
    )]
    Token(TokenArgs),

    /// Sign a person in with the device flow: show a code and a QR code, wait for approval,
    /// store the tokens.
    #[command(name = "device-login", after_help = exit::HELP)]
    DeviceLogin(DeviceLoginArgs),

    /// Renew a stored login now with its refresh token and store the result.
    #[command(after_help = exit::HELP)]
    Refresh(RefreshArgs),

    /// Show a JWT's header and claims with readable times (the signature is never shown, nor
    /// verified).
    #[command(after_help = exit::HELP)]
    Decode(DecodeArgs),

    /// Show the stored tokens: whose each one is (app or person), app, server, scope and time
    /// left (never the tokens themselves).
    #[command(after_help = exit::HELP)]
    Status(StatusArgs),

    /// Delete stored tokens (all, one app's, or one person's).
    #[command(after_help = exit::HELP)]
    Logout(LogoutArgs),

    /// Print a shell completion script (e.g. `twilio-oauth completions bash > /etc/bash_completion.d/twilio-oauth`).
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

/// Where the OAuth server is and how long to wait for it.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    /// The OAuth server (default https://oauth.twilio.com; http:// only on loopback).
    #[arg(long, env = "TWILIO_OAUTH_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// Whole-request timeout in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// A PEM file of CA certificates to trust besides the system's (a private or corporate CA).
    #[arg(long, env = "TWILIO_OAUTH_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,

    /// The proxy of every request (http://[user:password@]host:port), instead of HTTPS_PROXY /
    /// ALL_PROXY; NO_PROXY still applies.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
}

/// Where tokens are stored.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// The token file (default: <config dir>/twilio-oauth/tokens.json, mode 0600), or a
    /// redis:// / rediss:// URL for a store a fleet shares (values encrypted with
    /// TWILIO_OAUTH_ENCRYPTION_KEY, 32 bytes in base64, when it is set).
    #[arg(long = "store", env = "TWILIO_OAUTH_STORE", value_name = "PATH|URL")]
    pub path: Option<String>,
}

/// Options of `serve-mock`.
#[cfg(feature = "local-server")]
#[derive(Debug, Args)]
pub struct ServeMockArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// The port to listen on (0: any free port).
    #[arg(long, short, default_value_t = 8765)]
    pub port: u16,
}

/// Options of `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The OAuth app's client id (OQ…).
    #[arg(long, env = "TWILIO_CLIENT_ID", value_name = "OQ…")]
    pub client_id: Option<String>,

    /// The OAuth app's client secret (needed by --app, and to renew logins of confidential apps).
    #[arg(
        long,
        env = "TWILIO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<String>,

    /// The app's own token (client credentials) instead of the signed-in person's. It is kept
    /// in the token file and reused while it is fresh.
    #[arg(long, conflicts_with = "account")]
    pub app: bool,

    /// Which stored login to use, when several people are signed in to this app (the label
    /// given to `device-login --account`, or the person's id shown by `status`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,

    /// Account SID for renewing a device login through /v1/token (AC…).
    #[arg(long, env = "TWILIO_ACCOUNT_SID", value_name = "AC…")]
    pub account_sid: Option<String>,

    /// Auth token of that account.
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub auth_token: Option<String>,

    /// The scope: requested with --app; otherwise it picks the stored login with this scope.
    #[arg(long)]
    pub scope: Option<String>,

    /// The audience: requested with --app; otherwise it picks the stored login with this
    /// audience.
    #[arg(long)]
    pub audience: Option<String>,

    /// Print the token as JSON: access_token, token_type, expires_at (RFC 3339), expires_in
    /// (seconds), scope, grant (app or user), account, id_token. Never the refresh token: it
    /// stays in the token file.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// When to draw the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QrMode {
    /// Only when the output is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of `device-login`.
#[derive(Debug, Args)]
pub struct DeviceLoginArgs {
    /// The OAuth app's client id (OQ…).
    #[arg(long, env = "TWILIO_CLIENT_ID", value_name = "OQ…")]
    pub client_id: Option<String>,

    /// The app's client secret, for confidential apps (public apps have none).
    #[arg(
        long,
        env = "TWILIO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<String>,

    /// Account SID for the device endpoints (AC…).
    #[arg(long, env = "TWILIO_ACCOUNT_SID", value_name = "AC…")]
    pub account_sid: Option<String>,

    /// Auth token of that account.
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub auth_token: Option<String>,

    /// A scope to ask for (repeat for several).
    #[arg(long = "scope", value_name = "SCOPE", default_values_t = [String::from("offline_access")])]
    pub scopes: Vec<String>,

    /// An audience to ask for (repeat for several).
    #[arg(long = "audience", value_name = "AUDIENCE")]
    pub audiences: Vec<String>,

    /// A label for the person signing in (e.g. alice@example.com): keeps several people's
    /// logins apart in one token file; `token --account LABEL` picks this one. Default: the
    /// person's id from the token.
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,

    /// When to draw the QR code of the verification link.
    #[arg(long, value_enum, default_value_t = QrMode::Auto)]
    pub qr: QrMode,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// Options of `refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Which app's login to refresh, when logins of several apps are stored.
    #[arg(long, value_name = "OQ…")]
    pub client_id: Option<String>,

    /// Which person's login to refresh, when several are stored (see `status`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,

    /// The app's client secret, for confidential apps.
    #[arg(
        long,
        env = "TWILIO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<String>,

    /// Account SID for renewing a device login through /v1/token (AC…).
    #[arg(long, env = "TWILIO_ACCOUNT_SID", value_name = "AC…")]
    pub account_sid: Option<String>,

    /// Auth token of that account.
    #[arg(
        long,
        env = "TWILIO_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub auth_token: Option<String>,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// Options of `decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The token (`-` or nothing: read it from stdin). A leading "Bearer " is ignored.
    pub token: Option<String>,

    /// Print {"header", "claims", "times", "expires_in", "expired"} as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the stored tokens' metadata as JSON.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// Options of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Delete only this app's tokens (default: every stored token).
    #[arg(long, value_name = "OQ…")]
    pub client_id: Option<String>,

    /// Delete only this person's logins (the account label or id shown by `status`).
    #[arg(long, value_name = "LABEL")]
    pub account: Option<String>,

    #[command(flatten)]
    pub store: StoreArgs,
}
