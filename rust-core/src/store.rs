//! Where cached tokens live: the `TokenStore` trait, a memory store and a file store.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::{Map, Value};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::token::Token;

const FILE_SCHEMA_VERSION: u64 = 1;

/// Somewhere to keep tokens between runs (a file, the Keychain, Android Keystore-backed
/// storage, a database). Keys are opaque strings built by the provider.
///
/// A failing store never breaks token acquisition: the provider logs the error and goes on.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The token saved under `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<Token>>;
    /// Saves `token` under `key`, replacing what was there.
    async fn save(&self, key: &str, token: &Token) -> Result<()>;
    /// Forgets `key`.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// Keeps tokens in memory (the default store).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    tokens: Arc<Mutex<HashMap<String, Token>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Token>> {
        Ok(self.tokens.lock().get(key).cloned())
    }

    async fn save(&self, key: &str, token: &Token) -> Result<()> {
        self.tokens.lock().insert(key.to_owned(), token.clone());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.tokens.lock().remove(key);
        Ok(())
    }
}

/// Keeps tokens in one JSON file: `{"schema_version": 1, "tokens": {key: token}}`.
///
/// The file is created with mode 0600 and replaced atomically (write a temporary file in the
/// same folder, then rename), so a crash never leaves half a file. A corrupted file is ignored
/// with a warning and overwritten on the next save.
pub struct FileStore {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    // Serialises read-modify-write cycles within this process.
    lock: Mutex<()>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish()
    }
}

impl FileStore {
    /// A store backed by `path` (created on first save, with its folder).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            clock: Arc::new(SystemClock),
            lock: Mutex::new(()),
        }
    }

    /// The same store reading times from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys currently stored.
    pub fn keys(&self) -> Vec<String> {
        let _guard = self.lock.lock();
        self.read().keys().cloned().collect()
    }

    fn read(&self) -> Map<String, Value> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Map::new(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot read the token file; ignoring it");
                return Map::new();
            }
        };
        let parsed: Option<Map<String, Value>> = serde_json::from_str(&text).ok();
        match parsed {
            Some(mut doc)
                if doc.get("schema_version").and_then(Value::as_u64)
                    == Some(FILE_SCHEMA_VERSION) =>
            {
                match doc.remove("tokens") {
                    Some(Value::Object(tokens)) => tokens,
                    _ => Map::new(),
                }
            }
            _ => {
                tracing::warn!(path = %self.path.display(), "the token file is corrupted or of an unknown version; ignoring it");
                Map::new()
            }
        }
    }

    fn write(&self, tokens: Map<String, Value>) -> Result<()> {
        let store_err = |what: &str, e: std::io::Error| Error::Store {
            message: format!("{what} {}: {e}", self.path.display()),
        };
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        create_private_dir(&dir).map_err(|e| store_err("cannot create the folder of", e))?;
        let mut doc = Map::new();
        doc.insert("schema_version".into(), FILE_SCHEMA_VERSION.into());
        doc.insert("tokens".into(), Value::Object(tokens));
        let text = serde_json::to_vec_pretty(&Value::Object(doc))
            .map_err(|e| Error::internal(format!("cannot serialise tokens: {e}")))?;
        // tempfile creates the file with mode 0600 on Unix.
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| store_err("cannot create a temporary file for", e))?;
        tmp.write_all(&text)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| store_err("cannot write", e))?;
        tmp.persist(&self.path)
            .map_err(|e| store_err("cannot replace", e.error))?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<Token>> {
        let _guard = self.lock.lock();
        let Some(value) = self.read().remove(key) else {
            return Ok(None);
        };
        match Token::from_json_with_clock(&value.to_string(), self.clock.as_ref()) {
            Ok(t) => Ok(Some(t)),
            Err(e) => {
                tracing::warn!(key, error = %e, "ignoring an unreadable stored token");
                Ok(None)
            }
        }
    }

    async fn save(&self, key: &str, token: &Token) -> Result<()> {
        let _guard = self.lock.lock();
        let mut tokens = self.read();
        let value: Value = serde_json::from_str(&token.to_json())
            .map_err(|e| Error::internal(format!("cannot serialise a token: {e}")))?;
        tokens.insert(key.to_owned(), value);
        self.write(tokens)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let _guard = self.lock.lock();
        let mut tokens = self.read();
        if tokens.remove(key).is_some() {
            self.write(tokens)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn file_store_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("sub/tokens.json"));
        let token = Token::new("access-1", Duration::from_secs(600)).with_refresh_token("r-1");
        store.save("k", &token).await.unwrap();
        let back = store.load("k").await.unwrap().unwrap();
        assert_eq!(back.access_token().secret(), "access-1");
        assert_eq!(back.refresh_token().unwrap().secret(), "r-1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.delete("k").await.unwrap();
        assert!(store.load("k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_corrupted_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = FileStore::new(&path);
        assert!(store.load("k").await.unwrap().is_none());
        store
            .save("k", &Token::new("a", Duration::from_secs(60)))
            .await
            .unwrap();
        assert!(store.load("k").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_token_with_a_bad_field_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(
            &path,
            r#"{"schema_version": 1, "tokens": {"k": {"schema_version": 1, "access_token": "a", "token_type": "Bearer", "expires_at": "tomorrow"}}}"#,
        )
        .unwrap();
        assert!(FileStore::new(&path).load("k").await.unwrap().is_none());
    }
}
