//! `TokenStore`: where cached tokens live, implementable in Kotlin or Swift (Keychain, Android
//! Keystore-backed storage, a database) or taken from the built-in memory and file stores.

use std::fmt;
use std::sync::Arc;

use crate::token::Token;
use crate::{Result, TwilioOAuthError};

/// Somewhere to keep tokens between runs. Keys are opaque strings built by the provider.
///
/// Implement it in Kotlin (`suspend` functions) or Swift (`async throws`); persist a token with
/// `token.toJson()` and read it back with `Token.fromJson(json)`. Anything the implementation
/// throws becomes a `Store` error, which the provider logs before carrying on without the store:
/// a failing store never breaks token acquisition.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The token saved under `key`, if any.
    async fn load(&self, key: String) -> Result<Option<Arc<Token>>>;
    /// Saves `token` under `key`, replacing what was there.
    async fn save(&self, key: String, token: Arc<Token>) -> Result<()>;
    /// Forgets `key`.
    async fn delete(&self, key: String) -> Result<()>;
}

/// An app's store, seen by the core.
pub(crate) struct ForeignStore(pub(crate) Arc<dyn TokenStore>);

impl fmt::Debug for ForeignStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ForeignTokenStore")
    }
}

#[twilio_oauth::async_trait]
impl twilio_oauth::TokenStore for ForeignStore {
    async fn load(&self, key: &str) -> twilio_oauth::Result<Option<twilio_oauth::Token>> {
        let found = self.0.load(key.to_owned()).await?;
        Ok(found.map(|t| t.0.clone()))
    }

    async fn save(&self, key: &str, token: &twilio_oauth::Token) -> twilio_oauth::Result<()> {
        Ok(self
            .0
            .save(key.to_owned(), Token::wrap(token.clone()))
            .await?)
    }

    async fn delete(&self, key: &str) -> twilio_oauth::Result<()> {
        Ok(self.0.delete(key.to_owned()).await?)
    }
}

/// One of the core's stores, offered to the foreign side as a `TokenStore`.
struct BuiltinStore(Arc<dyn twilio_oauth::TokenStore>);

#[async_trait::async_trait]
impl TokenStore for BuiltinStore {
    async fn load(&self, key: String) -> Result<Option<Arc<Token>>> {
        let found = self.0.load(&key).await.map_err(TwilioOAuthError::from)?;
        Ok(found.map(Token::wrap))
    }

    async fn save(&self, key: String, token: Arc<Token>) -> Result<()> {
        Ok(self.0.save(&key, &token.0).await?)
    }

    async fn delete(&self, key: String) -> Result<()> {
        Ok(self.0.delete(&key).await?)
    }
}

/// A store that keeps tokens in memory (what a provider uses when given none).
#[uniffi::export]
pub fn memory_token_store() -> Arc<dyn TokenStore> {
    Arc::new(BuiltinStore(Arc::new(twilio_oauth::MemoryStore::new())))
}

/// A store that keeps tokens in one JSON file (mode 0600, replaced atomically): for desktop
/// JVM apps and command-line tools. Mobile apps should implement `TokenStore` over the Keychain
/// or Keystore-backed storage instead.
#[uniffi::export]
pub fn file_token_store(path: String) -> Arc<dyn TokenStore> {
    Arc::new(BuiltinStore(Arc::new(twilio_oauth::FileStore::new(path))))
}
