//! The token file: where it is, and what its keys say.

use std::path::PathBuf;

use twilio_oauth::FileStore;

use crate::cli::StoreArgs;
use crate::exit::Failure;

/// The token file of `args`: `--store`, `TWILIO_OAUTH_STORE`, or
/// `<config dir>/twilio-oauth/tokens.json`.
pub fn path(args: &StoreArgs) -> Result<PathBuf, Failure> {
    if let Some(p) = &args.path {
        return Ok(p.clone());
    }
    dirs::config_dir()
        .map(|d| d.join("twilio-oauth").join("tokens.json"))
        .ok_or_else(|| {
            Failure::usage("cannot find a configuration folder for the token file")
                .hint("pass --store PATH or set TWILIO_OAUTH_STORE")
        })
}

/// The token file of `args`, opened.
pub fn open(args: &StoreArgs) -> Result<FileStore, Failure> {
    Ok(FileStore::new(path(args)?))
}

/// What a store key built by the core's `TokenProvider` says:
/// `twilio-oauth:<client id>:<grant>:<scope>:<audience>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The app the token belongs to.
    pub client_id: Option<String>,
    /// `user` (a person's login) or `client_credentials`.
    pub grant: Option<String>,
    /// The normalised scope, if any.
    pub scope: Option<String>,
    /// The audience, if any.
    pub audience: Option<String>,
}

impl KeyInfo {
    /// Reads a key; keys of another shape give empty fields.
    pub fn parse(key: &str) -> Self {
        let mut parts = key.splitn(5, ':');
        let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        if parts.next() != Some("twilio-oauth") {
            return KeyInfo {
                client_id: None,
                grant: None,
                scope: None,
                audience: None,
            };
        }
        KeyInfo {
            client_id: non_empty(parts.next()),
            grant: non_empty(parts.next()),
            scope: non_empty(parts.next()),
            audience: non_empty(parts.next()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_an_audience_url_keep_the_whole_url() {
        let k = KeyInfo::parse(
            "twilio-oauth:OQfedcba9876543210fedcba9876543210:user:offline_access:https://api.twilio.com",
        );
        assert_eq!(
            k.client_id.as_deref(),
            Some("OQfedcba9876543210fedcba9876543210")
        );
        assert_eq!(k.grant.as_deref(), Some("user"));
        assert_eq!(k.scope.as_deref(), Some("offline_access"));
        assert_eq!(k.audience.as_deref(), Some("https://api.twilio.com"));
        assert_eq!(KeyInfo::parse("other").client_id, None);
    }
}
