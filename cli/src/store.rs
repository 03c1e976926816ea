//! The token store (a file, or Redis for a fleet): where it is, what it holds, and which
//! stored login a command means.
//!
//! Keys are the core's [`CacheKey`]s in their string form; this module only ever reads them
//! with [`CacheKey::parse`]. A key that does not parse was written by an earlier version (an
//! "old format" key): it is listed by `status` and removed by `logout`, never used.

use std::path::PathBuf;

use twilio_oauth::{
    CacheKey, FileStore, GrantKind, OAuthClient, RedisOptions, RedisStore, StoreLock, Token,
    TokenStore, async_trait,
};

use crate::cli::StoreArgs;
use crate::exit::Failure;

/// How `status` names an entry whose key does not parse.
pub const OLD_FORMAT: &str = "unknown (old format)";

/// The token file of `args` when it names one: `--store PATH`, `TWILIO_OAUTH_STORE`, or
/// `<config dir>/twilio-oauth/tokens.json`.
pub fn path(args: &StoreArgs) -> Result<PathBuf, Failure> {
    if let Some(p) = &args.path {
        return Ok(PathBuf::from(p));
    }
    dirs::config_dir()
        .map(|d| d.join("twilio-oauth").join("tokens.json"))
        .ok_or_else(|| {
            Failure::usage("cannot find a configuration folder for the token file")
                .hint("pass --store PATH or set TWILIO_OAUTH_STORE")
        })
}

/// Where a command keeps tokens: the token file, or Redis when `--store` (or
/// `TWILIO_OAUTH_STORE`) is a `redis://` or `rediss://` URL, shared by a fleet (values
/// encrypted with `TWILIO_OAUTH_ENCRYPTION_KEY` when it is set).
#[derive(Debug, Clone)]
pub enum Store {
    /// A JSON file shared by the processes of one machine.
    File(FileStore),
    /// Redis or Valkey, shared by a fleet; the URL without its password, for messages.
    Redis(RedisStore, String),
}

impl Store {
    /// The file's path or the server's URL (never a password), for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::File(f) => f.path().display().to_string(),
            Store::Redis(_, url) => url.clone(),
        }
    }

    /// Every stored key.
    pub async fn keys(&self) -> twilio_oauth::Result<Vec<String>> {
        match self {
            Store::File(f) => {
                let reader = f.clone();
                tokio::task::spawn_blocking(move || reader.keys())
                    .await
                    .map_err(|e| twilio_oauth::Error::Store {
                        message: format!("cannot read the token file: {e}"),
                    })?
            }
            Store::Redis(r, _) => r.keys().await,
        }
    }

    fn inner(&self) -> &dyn TokenStore {
        match self {
            Store::File(f) => f,
            Store::Redis(r, _) => r,
        }
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn load(&self, key: &str) -> twilio_oauth::Result<Option<Token>> {
        self.inner().load(key).await
    }
    async fn save(&self, key: &str, token: &Token) -> twilio_oauth::Result<()> {
        self.inner().save(key, token).await
    }
    async fn delete(&self, key: &str) -> twilio_oauth::Result<()> {
        self.inner().delete(key).await
    }
    async fn lock(&self, key: &str) -> twilio_oauth::Result<Option<StoreLock>> {
        self.inner().lock(key).await
    }
}

/// The store of `args`, opened (a Redis store connects on first use).
pub fn open(args: &StoreArgs) -> Result<Store, Failure> {
    match args.path.as_deref() {
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            let store = RedisStore::connect(url, RedisOptions::default())?;
            let shown = match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "redis".into(),
            };
            Ok(Store::Redis(store, shown))
        }
        _ => Ok(Store::File(FileStore::new(path(args)?))),
    }
}

/// One stored entry.
pub struct Entry {
    /// The key exactly as stored.
    pub key: String,
    /// What the key says; `None` for a key of an old or foreign format.
    pub parsed: Option<CacheKey>,
}

/// Every key of the token file with what it says, sorted (apps before people, then by app,
/// person and scope; old-format keys last). Reading the file runs on a blocking thread.
pub async fn entries(store: &Store) -> Result<Vec<Entry>, Failure> {
    let keys = store.keys().await?;
    let mut out: Vec<Entry> = keys
        .into_iter()
        .map(|key| Entry {
            parsed: CacheKey::parse(&key),
            key,
        })
        .collect();
    out.sort_by(|a, b| match (&a.parsed, &b.parsed) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.key.cmp(&b.key),
    });
    Ok(out)
}

/// The stored token of `key`, if it can be read.
pub async fn load(store: &Store, key: &str) -> Result<Option<Token>, Failure> {
    Ok(store.load(key).await?)
}

/// The base URL exactly as keys spell it (normalised by the core) for `client`.
pub fn base_url_of(client: &OAuthClient) -> String {
    CacheKey::new(
        client.base_url(),
        client.client_id(),
        GrantKind::App,
        None,
        None,
        None,
        None,
    )
    .base_url()
    .to_owned()
}

/// Who a stored login belongs to, for messages: the account label or JWT subject.
pub fn person(key: &CacheKey) -> &str {
    key.subject().unwrap_or("(no account)")
}

/// Which stored logins (user-grant keys) a command means.
#[derive(Debug, Default)]
pub struct LoginFilter<'a> {
    /// Only this server (the normalised base URL).
    pub base_url: Option<&'a str>,
    /// Only this app.
    pub client_id: Option<&'a str>,
    /// Only this person (account label or subject).
    pub account: Option<&'a str>,
    /// Only this scope (compared normalised).
    pub scope: Option<&'a str>,
    /// Only this audience.
    pub audience: Option<&'a str>,
}

impl LoginFilter<'_> {
    /// True when `key` is a person's login that passes every given criterion.
    pub fn matches(&self, key: &CacheKey) -> bool {
        let scope = self.scope.map(twilio_oauth::normalize_scope);
        key.grant() == GrantKind::User
            && self.base_url.is_none_or(|u| key.base_url() == u)
            && self.client_id.is_none_or(|c| key.client_id() == c)
            && self.account.is_none_or(|a| key.subject() == Some(a))
            && scope.is_none_or(|s| key.scope().unwrap_or("") == s)
            && self.audience.is_none_or(|a| key.audience() == Some(a))
    }
}

/// The stored logins that `filter` lets through.
pub async fn logins(store: &Store, filter: &LoginFilter<'_>) -> Result<Vec<CacheKey>, Failure> {
    Ok(entries(store)
        .await?
        .into_iter()
        .filter_map(|e| e.parsed)
        .filter(|k| filter.matches(k))
        .collect())
}

/// "alice@example.com (scope offline_access)", or with `with_app` "alice@example.com (OQ…,
/// scope offline_access)": tells stored logins apart in a list.
pub fn describe_login(key: &CacheKey, with_app: bool) -> String {
    let mut details = Vec::new();
    if with_app {
        details.push(key.client_id().to_owned());
    }
    if let Some(scope) = key.scope() {
        details.push(format!("scope {scope}"));
    }
    if let Some(audience) = key.audience() {
        details.push(format!("audience {audience}"));
    }
    if details.is_empty() {
        return person(key).to_owned();
    }
    format!("{} ({})", person(key), details.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "OQ0123456789abcdef0123456789abcdef";

    fn login(subject: &str, scope: &str) -> CacheKey {
        CacheKey::new(
            "http://127.0.0.1:8765/",
            APP,
            GrantKind::User,
            None,
            Some(subject),
            Some(scope),
            None,
        )
    }

    #[test]
    fn the_filter_takes_people_of_one_app_and_server_and_never_app_tokens() {
        let alice = login("alice", "openid offline_access");
        let app = CacheKey::new(
            "http://127.0.0.1:8765",
            APP,
            GrantKind::App,
            None,
            None,
            None,
            None,
        );
        let filter = LoginFilter {
            base_url: Some("http://127.0.0.1:8765"),
            client_id: Some(APP),
            ..LoginFilter::default()
        };
        assert!(filter.matches(&alice));
        assert!(!filter.matches(&app));
        let other_server = LoginFilter {
            base_url: Some("https://oauth.twilio.com"),
            ..LoginFilter::default()
        };
        assert!(!other_server.matches(&alice));
    }

    #[test]
    fn the_filter_compares_accounts_exactly_and_scopes_normalised() {
        let alice = login("alice", "openid offline_access");
        let by_account = |a| LoginFilter {
            account: Some(a),
            ..LoginFilter::default()
        };
        assert!(by_account("alice").matches(&alice));
        assert!(!by_account("bob").matches(&alice));
        assert!(!by_account("ali").matches(&alice));
        let by_scope = |s| LoginFilter {
            scope: Some(s),
            ..LoginFilter::default()
        };
        assert!(by_scope("offline_access  openid").matches(&alice));
        assert!(!by_scope("openid").matches(&alice));
    }

    #[test]
    fn a_login_is_described_by_person_app_and_scope() {
        let alice = login("alice", "openid offline_access");
        assert_eq!(
            describe_login(&alice, true),
            format!("alice ({APP}, scope offline_access openid)")
        );
        assert_eq!(
            describe_login(&alice, false),
            "alice (scope offline_access openid)"
        );
    }
}
