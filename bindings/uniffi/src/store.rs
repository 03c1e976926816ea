//! `TokenStore`: where cached tokens live, implementable in Kotlin or Swift (Keychain, Android
//! Keystore-backed storage, a database) or taken from the built-in memory and file stores.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

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

/// The built-in stores handed out so far, by address. A provider given one of them must see
/// the core's store itself, not a `TokenStore` wrapper around it: only the core's `FileStore`
/// knows how to lock a key against other processes while it refreshes (the foreign trait has
/// no `lock`). uniffi hands a Rust-made trait object back as the same `Arc`, so its address
/// finds it here; the `Weak` keeps that address from being reused while it is listed.
static BUILTIN: Mutex<Vec<Weak<BuiltinStore>>> = Mutex::new(Vec::new());

fn builtin(store: impl twilio_oauth::TokenStore + 'static) -> Arc<dyn TokenStore> {
    let store = Arc::new(BuiltinStore(Arc::new(store)));
    let mut listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
    listed.retain(|w| w.strong_count() > 0);
    listed.push(Arc::downgrade(&store));
    store
}

/// What the core should use for a store passed in from Kotlin or Swift: the core's own store
/// when it is one of ours (`fileTokenStore`, `memoryTokenStore`), else the foreign object.
pub(crate) fn core_store(store: Arc<dyn TokenStore>) -> Arc<dyn twilio_oauth::TokenStore> {
    let address = Arc::as_ptr(&store).cast::<()>();
    let listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
    let ours = listed
        .iter()
        .find(|w| w.as_ptr().cast::<()>() == address)
        .and_then(Weak::upgrade);
    drop(listed);
    match ours {
        Some(builtin) => builtin.0.clone(),
        None => Arc::new(ForeignStore(store)),
    }
}

/// A store that keeps tokens in memory (what a provider uses when given none).
#[uniffi::export]
pub fn memory_token_store() -> Arc<dyn TokenStore> {
    builtin(twilio_oauth::MemoryStore::new())
}

/// A store that keeps tokens in one JSON file (mode 0600 in a 0700 folder, replaced
/// atomically), for desktop JVM apps and command-line tools. Processes that share the file
/// share the tokens safely: a provider locks the person's entry while it refreshes, and uses a
/// token another process already refreshed, so a rotated refresh token is sent once. A folder or
/// file that other users can write is refused (`Store` error). Mobile apps should implement
/// `TokenStore` over the Keychain or Keystore-backed storage instead.
#[uniffi::export]
pub fn file_token_store(path: String) -> Arc<dyn TokenStore> {
    builtin(twilio_oauth::FileStore::new(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builtin_store_reaches_the_core_unwrapped_and_a_foreign_one_wrapped() {
        let dir = std::env::temp_dir().join("never-created-by-this-test");
        let file = file_token_store(dir.join("t.json").display().to_string());
        let core = core_store(file.clone());
        assert!(format!("{core:?}").starts_with("FileStore"), "{core:?}");

        struct Foreign;
        #[async_trait::async_trait]
        impl TokenStore for Foreign {
            async fn load(&self, _: String) -> Result<Option<Arc<Token>>> {
                Ok(None)
            }
            async fn save(&self, _: String, _: Arc<Token>) -> Result<()> {
                Ok(())
            }
            async fn delete(&self, _: String) -> Result<()> {
                Ok(())
            }
        }
        let foreign: Arc<dyn TokenStore> = Arc::new(Foreign);
        assert_eq!(format!("{:?}", core_store(foreign)), "ForeignTokenStore");
        // Once the app drops the built-in store, its entry goes with the next one made.
        drop((file, core));
        let _memory = memory_token_store();
        let listed = BUILTIN.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(listed.iter().all(|w| w.strong_count() > 0));
    }
}
