//! Where cached tokens live: the `TokenStore` trait, a memory store and a file store that
//! several processes can share.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::token::Token;

const FILE_SCHEMA_VERSION: u64 = 1;
/// How long a provider waits for another process's refresh before it gives up on the lock
/// (a holder that dies releases it at once; this bounds a holder that hangs).
pub const LOCK_WAIT: Duration = Duration::from_secs(60);
const LOCK_POLL: Duration = Duration::from_millis(10);

/// Somewhere to keep tokens between runs (a file, the Keychain, Android Keystore-backed
/// storage, a database). Keys are the string form of a [`crate::CacheKey`].
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
    /// Keeps other processes sharing this store away from `key` until the returned guard is
    /// dropped. A provider holds it around "re-read the store, refresh, save", so that N
    /// processes make one refresh and never send a refresh token twice. `None` (the default):
    /// the store is not shared between processes.
    async fn lock(&self, key: &str) -> Result<Option<StoreLock>> {
        let _ = key;
        Ok(None)
    }
}

/// A held lock of a [`TokenStore`]; dropping it releases the lock.
pub struct StoreLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl StoreLock {
    /// Wraps whatever releases the lock when dropped.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        StoreLock(Box::new(guard))
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreLock")
    }
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

/// Keeps tokens in one JSON file: `{"schema_version": 1, "tokens": {key: token}}`, shared
/// safely by every process that opens it (the CLI and an app, gunicorn workers).
///
/// - Every read-modify-write runs under an OS file lock (`<file>.lock`), and a provider
///   refreshing a key holds that key's lock (`<file>.<hash>.lock`) while it re-reads the file,
///   refreshes and saves: N processes sharing one login make one refresh and never replay a
///   rotated refresh token.
/// - The file is created with mode 0600 in a 0700 folder and replaced atomically (temporary
///   file, fsync, rename, fsync of the folder), so a crash never leaves half a file.
/// - A file written by a newer version, or one that cannot be read or parsed, is a
///   `StoreError` and is never overwritten. A file or folder that other users can write, or a
///   symlink to another user's file, is refused.
/// - File I/O runs on tokio's blocking threads, never on a runtime worker.
#[derive(Clone)]
pub struct FileStore(Arc<FileInner>);

struct FileInner {
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.0.path)
            .finish()
    }
}

impl FileStore {
    /// A store backed by `path` (created on first save, with its folder).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(Arc::new(FileInner {
            path: path.into(),
            clock: Arc::new(SystemClock),
        }))
    }

    /// The same store reading times from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(FileInner {
            path: self.0.path.clone(),
            clock,
        }))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The keys currently stored (blocking: it reads the file).
    pub fn keys(&self) -> Result<Vec<String>> {
        Ok(self.0.read()?.keys().cloned().collect())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&FileInner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.0.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || f(&inner))
                .await
                .map_err(|e| Error::internal(format!("token file task failed: {e}")))?,
            Err(_) => f(&inner),
        }
    }
}

impl FileInner {
    fn err(&self, what: &str, e: impl fmt::Display) -> Error {
        Error::Store {
            message: format!("{what} {}: {e}", self.path.display()),
        }
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The whole token map; a missing file is empty, anything unreadable is an error.
    fn read(&self) -> Result<Map<String, Value>> {
        check_not_writable_by_others(&self.dir()).map_err(|e| self.err("refusing", e))?;
        match check_own_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(self.err("refusing", e)),
        }
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(self.err("cannot read", e)),
        };
        let mut doc: Map<String, Value> = serde_json::from_str(&text)
            .map_err(|e| self.err("not a token file (left untouched):", e))?;
        match doc.get("schema_version").and_then(Value::as_u64) {
            Some(FILE_SCHEMA_VERSION) => {}
            Some(v) if v > FILE_SCHEMA_VERSION => {
                return Err(self.err(
                    &format!(
                        "schema_version {v} is newer than this library reads (left untouched):"
                    ),
                    "upgrade twilio-oauth",
                ));
            }
            _ => {
                return Err(self.err("not a token file (left untouched):", "no schema_version"));
            }
        }
        match doc.remove("tokens") {
            Some(Value::Object(tokens)) => Ok(tokens),
            None => Ok(Map::new()),
            Some(_) => Err(self.err("not a token file (left untouched):", "bad tokens")),
        }
    }

    /// Runs `change` on the token map under the file lock and writes the result back.
    fn modify(&self, change: impl FnOnce(&mut Map<String, Value>) -> bool) -> Result<()> {
        let dir = self.dir();
        create_private_dir(&dir).map_err(|e| self.err("cannot create the folder of", e))?;
        let lock = open_lock_file(&lock_path(&self.path, None))
            .map_err(|e| self.err("cannot open the lock file of", e))?;
        lock.lock().map_err(|e| self.err("cannot lock", e))?;
        let _unlock = Unlock(Arc::new(lock));
        let mut tokens = self.read()?;
        if change(&mut tokens) {
            self.write(&dir, tokens)?;
        }
        Ok(())
    }

    fn write(&self, dir: &Path, tokens: Map<String, Value>) -> Result<()> {
        let mut doc = Map::new();
        doc.insert("schema_version".into(), FILE_SCHEMA_VERSION.into());
        doc.insert("tokens".into(), Value::Object(tokens));
        let text = serde_json::to_vec_pretty(&Value::Object(doc))
            .map_err(|e| Error::internal(format!("cannot serialise tokens: {e}")))?;
        // tempfile creates the file with mode 0600 on Unix.
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| self.err("cannot create a temporary file for", e))?;
        tmp.write_all(&text)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| self.err("cannot write", e))?;
        tmp.persist(&self.path)
            .map_err(|e| self.err("cannot replace", e.error))?;
        // The rename is durable only once the folder is.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.err("cannot sync the folder of", e))?;
        Ok(())
    }
}

/// Releases a file lock when dropped. Explicitly: closing our descriptor is not enough when a
/// child process forked while the lock was held still has a copy of it (gunicorn `--preload`,
/// Celery prefork), and the lock would live as long as that child.
struct Unlock(Arc<File>);

impl Drop for Unlock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// `<file>.lock` (read-modify-write) or `<file>.<hash of key>.lock` (a key's refresh).
fn lock_path(path: &Path, key: Option<&str>) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    if let Some(key) = key {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        name.push(format!(".{hex}"));
    }
    name.push(".lock");
    path.with_file_name(name)
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    check_own_file(path).or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    options.open(path)
}

fn refused(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, message)
}

/// A folder or file that another user can write could be swapped for one of theirs.
fn check_not_writable_by_others(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o022 != 0 => {
                return Err(refused(format!(
                    "{} is writable by other users (mode {:o}); use a private folder",
                    path.display(),
                    m.permissions().mode() & 0o777
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The file (or what a symlink points to) must be ours and writable only by us.
fn check_own_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)?;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            let link = std::fs::symlink_metadata(path)?.file_type().is_symlink();
            return Err(refused(format!(
                "{} {} owned by uid {}, not by this user",
                path.display(),
                if link { "is a symlink to a file" } else { "is" },
                meta.uid()
            )));
        }
        check_not_writable_by_others(path)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
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
        let key = key.to_owned();
        self.blocking(move |inner| {
            let Some(value) = inner.read()?.remove(&key) else {
                return Ok(None);
            };
            match Token::from_json_with_clock(&value.to_string(), inner.clock.as_ref()) {
                Ok(t) => Ok(Some(t)),
                Err(e) => {
                    tracing::warn!(key, error = %e, "ignoring an unreadable stored token");
                    Ok(None)
                }
            }
        })
        .await
    }

    async fn save(&self, key: &str, token: &Token) -> Result<()> {
        let key = key.to_owned();
        let value: Value = serde_json::from_str(&token.to_json())
            .map_err(|e| Error::internal(format!("cannot serialise a token: {e}")))?;
        self.blocking(move |inner| {
            inner.modify(|tokens| {
                tokens.insert(key, value);
                true
            })
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.blocking(move |inner| inner.modify(|tokens| tokens.remove(&key).is_some()))
            .await
    }

    async fn lock(&self, key: &str) -> Result<Option<StoreLock>> {
        let path = lock_path(&self.0.path, Some(key));
        let file = self
            .blocking(move |inner| {
                create_private_dir(&inner.dir())
                    .map_err(|e| inner.err("cannot create the folder of", e))?;
                open_lock_file(&path).map_err(|e| inner.err("cannot open a lock file of", e))
            })
            .await?;
        let file = Arc::new(file);
        // Real time, like the polling sleep: an injected test clock must not stall the wait.
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            let f = file.clone();
            // Non-blocking; polled so that waiting never ties up a thread and stays bounded.
            let taken = self
                .blocking(move |inner| match f.try_lock() {
                    Ok(()) => Ok(true),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(false),
                    Err(std::fs::TryLockError::Error(e)) => Err(inner.err("cannot lock", e)),
                })
                .await?;
            if taken {
                return Ok(Some(StoreLock::new(Unlock(file))));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.0.err(
                    "another process holds the refresh lock of",
                    format!("for more than {LOCK_WAIT:?}"),
                ));
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
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
    async fn a_corrupted_file_is_a_store_error_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = FileStore::new(&path);
        assert_eq!(store.load("k").await.unwrap_err().kind(), "StoreError");
        let err = store
            .save("k", &Token::new("a", Duration::from_secs(60)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "StoreError");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
    }

    #[tokio::test]
    async fn a_file_from_a_newer_version_is_a_store_error_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let newer = r#"{"schema_version": 2, "tokens": {}}"#;
        std::fs::write(&path, newer).unwrap();
        let store = FileStore::new(&path);
        let err = store.load("k").await.unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        assert!(
            store
                .save("k", &Token::new("a", Duration::from_secs(60)))
                .await
                .is_err()
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_folder_or_file_that_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let store = FileStore::new(open.join("tokens.json"));
        let err = store
            .save("k", &Token::new("a", Duration::from_secs(60)))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("writable by other users"), "{err}");

        let path = dir.path().join("tokens.json");
        let store = FileStore::new(&path);
        store
            .save("k", &Token::new("a", Duration::from_secs(60)))
            .await
            .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(store.load("k").await.unwrap_err().kind(), "StoreError");
    }

    #[tokio::test]
    async fn the_refresh_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("tokens.json"));
        let held = store.lock("k").await.unwrap().unwrap();
        let other = store.clone();
        let waiter = tokio::spawn(async move { other.lock("k").await.map(|l| l.is_some()) });
        // A different key is not blocked by the first.
        assert!(store.lock("other-key").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "the second holder must wait");
        drop(held);
        assert!(waiter.await.unwrap().unwrap());
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
