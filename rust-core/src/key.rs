//! `CacheKey`: what a cached or stored token belongs to. Two tokens share an entry only when
//! every part is equal, so an app token and a person's token, or two people's tokens, or two
//! servers' tokens, can never be mixed up.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Marks the key format; a key of another format never parses.
const KEY_PREFIX: &str = "twilio-oauth:v2?";

/// Whose token it is: the app's own (client credentials) or a person's (device login,
/// authorization code, refresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantKind {
    /// A client-credentials token: the app acting as itself.
    App,
    /// A token of a person, renewed with its refresh token; never replaced by an app token.
    User,
}

impl GrantKind {
    /// `"app"` or `"user"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::App => "app",
            GrantKind::User => "user",
        }
    }
}

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GrantKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "app" => Ok(GrantKind::App),
            "user" => Ok(GrantKind::User),
            other => Err(Error::config(format!(
                "grant kind must be \"app\" or \"user\" (got {other:?})"
            ))),
        }
    }
}

/// The identity of a cached token: OAuth server, app, account, grant kind, person, scope and
/// audience. Its string form ([`CacheKey::to_string`]) is the key in every [`crate::TokenStore`];
/// [`CacheKey::parse`] reads it back (the CLI lists stored logins this way).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    base_url: String,
    client_id: String,
    account_sid: Option<String>,
    grant: GrantKind,
    subject: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
}

impl CacheKey {
    /// A key; scope and audience are normalised (`"b a"` and `"a  b"` are one key), empty
    /// parts count as absent, and the base URL loses its trailing slash.
    pub fn new(
        base_url: &str,
        client_id: &str,
        grant: GrantKind,
        account_sid: Option<&str>,
        subject: Option<&str>,
        scope: Option<&str>,
        audience: Option<&str>,
    ) -> Self {
        let some = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        CacheKey {
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            client_id: client_id.trim().to_owned(),
            account_sid: some(account_sid),
            grant,
            subject: some(subject),
            scope: some(scope.map(normalize_scope).as_deref()),
            audience: some(audience),
        }
    }

    /// Reads a key written by [`CacheKey::to_string`]; `None` for anything else (keys of other
    /// formats or versions).
    pub fn parse(text: &str) -> Option<CacheKey> {
        let query = text.strip_prefix(KEY_PREFIX)?;
        let mut base_url = None;
        let mut client_id = None;
        let mut grant = None;
        let mut account_sid = None;
        let mut subject = None;
        let mut scope = None;
        let mut audience = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            match k.as_ref() {
                "base_url" => base_url = Some(v),
                "client_id" => client_id = Some(v),
                "grant" => grant = v.parse().ok(),
                "account_sid" => account_sid = Some(v),
                "subject" => subject = Some(v),
                "scope" => scope = Some(v),
                "audience" => audience = Some(v),
                _ => return None,
            }
        }
        let key = CacheKey::new(
            &base_url?,
            &client_id?,
            grant?,
            account_sid.as_deref(),
            subject.as_deref(),
            scope.as_deref(),
            audience.as_deref(),
        );
        // Only the canonical form parses, so one entry never has two spellings.
        (key.to_string() == text).then_some(key)
    }

    /// The OAuth server's base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The account the token acts for, when one was given.
    pub fn account_sid(&self) -> Option<&str> {
        self.account_sid.as_deref()
    }
    /// App or user.
    pub fn grant(&self) -> GrantKind {
        self.grant
    }
    /// The person: an account label the caller gave, or the JWT `sub` (user grants only).
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }
    /// The normalised scope.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
    /// The audience.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The same key for another person.
    pub fn with_subject(mut self, subject: Option<&str>) -> Self {
        self.subject = subject
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        self
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("base_url", &self.base_url)
            .append_pair("client_id", &self.client_id)
            .append_pair("grant", self.grant.as_str());
        for (name, value) in [
            ("account_sid", &self.account_sid),
            ("subject", &self.subject),
            ("scope", &self.scope),
            ("audience", &self.audience),
        ] {
            if let Some(v) = value {
                q.append_pair(name, v);
            }
        }
        write!(f, "{KEY_PREFIX}{}", q.finish())
    }
}

/// Splits a scope string on spaces and commas, sorts and de-duplicates it.
pub fn normalize_scope(scope: &str) -> String {
    let mut parts: Vec<&str> = scope
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    parts.sort_unstable();
    parts.dedup();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "OQ0123456789abcdef0123456789abcdef";

    fn key(grant: GrantKind, subject: Option<&str>) -> CacheKey {
        CacheKey::new(
            "https://oauth.twilio.com/",
            ID,
            grant,
            None,
            subject,
            Some("b a"),
            None,
        )
    }

    #[test]
    fn scopes_are_normalised() {
        assert_eq!(normalize_scope("b a  a,c"), "a b c");
        assert_eq!(normalize_scope("a b"), normalize_scope("b a"));
    }

    #[test]
    fn a_key_round_trips_through_its_string_form() {
        let k = CacheKey::new(
            "http://127.0.0.1:8080",
            ID,
            GrantKind::User,
            Some("AC0123456789abcdef0123456789abcdef"),
            Some("user & co=1"),
            Some("openid offline_access"),
            Some("https://api.twilio.com"),
        );
        assert_eq!(CacheKey::parse(&k.to_string()), Some(k));
    }

    #[test]
    fn app_and_user_keys_and_two_people_never_collide() {
        let app = key(GrantKind::App, None).to_string();
        let alice = key(GrantKind::User, Some("alice")).to_string();
        let bob = key(GrantKind::User, Some("bob")).to_string();
        assert_ne!(app, alice);
        assert_ne!(alice, bob);
        assert_eq!(
            key(GrantKind::App, None),
            CacheKey::new(
                "https://oauth.twilio.com",
                ID,
                GrantKind::App,
                None,
                None,
                Some("a b"),
                None
            )
        );
    }

    #[test]
    fn foreign_and_old_keys_do_not_parse() {
        assert_eq!(CacheKey::parse("twilio-oauth:OQ1:user::"), None);
        assert_eq!(CacheKey::parse("twilio-oauth:v2?client_id=x"), None);
        assert_eq!(
            CacheKey::parse("twilio-oauth:v2?base_url=a&client_id=b&grant=robot"),
            None
        );
        assert_eq!(
            CacheKey::parse("twilio-oauth:v2?base_url=a&client_id=b&grant=app&x=1"),
            None
        );
    }
}
