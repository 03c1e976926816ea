//! Thin entry points into the crate's internal parsers, for the cargo-fuzz targets in `fuzz/`.
//!
//! Compiled only with the `fuzzing` feature and hidden from the docs: nothing here is part of
//! the public API, and each function only forwards to the code the library itself runs on what
//! a server or a file sends.

use std::cell::RefCell;
use std::time::{Duration, Instant, SystemTime};

use crate::error::Result;
use crate::store::{FileStore, TokenStore};
use crate::token::Token;
use crate::wire::token::Received;

/// Turns a token endpoint's 2xx answer (status, body, parsed `Date` header) into a [`Token`],
/// exactly as the client does, received now.
pub fn parse_token_response(status: u16, body: &[u8], date: Option<SystemTime>) -> Result<Token> {
    crate::wire::token::parse_token_response(&Received {
        status,
        body,
        date,
        at: Instant::now(),
        wall: SystemTime::now(),
    })
}

/// Parses a `Date` header value the way the transport does (an HTTP-date, else nothing).
pub fn parse_date_header(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value).ok()
}

/// Parses a `Retry-After` header value (delay-seconds or an HTTP-date) relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    crate::wire::error::parse_retry_after(value, now)
}

/// Parses Twilio's `throttled_until` (an RFC 3339 or HTTP date) into a wait from now.
pub fn retry_after_from_date(value: &str) -> Option<Duration> {
    crate::wire::error::retry_after_from_date(value, SystemTime::now())
}

thread_local! {
    static STORE_DIR: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// Writes `contents` as a [`FileStore`]'s file (in a private temporary folder, reused by the
/// thread) and loads every key it lists (at most `max_keys`), as a program reading a token file
/// left by an earlier run would. Returns each key with what loading it gave.
pub fn load_store_file(contents: &[u8], max_keys: usize) -> Vec<(String, Result<Option<Token>>)> {
    STORE_DIR.with(|dir| {
        let mut dir = dir.borrow_mut();
        if dir.is_none() {
            // Prefer memory: on a disk, reading back a just-rewritten file costs milliseconds
            // on some machines, which would cut the executions per second tenfold.
            *dir = tempfile::tempdir_in("/dev/shm")
                .or_else(|_| tempfile::tempdir())
                .ok();
        }
        let Some(dir) = dir.as_ref() else {
            return Vec::new();
        };
        let path = dir.path().join("tokens.json");
        if std::fs::write(&path, contents).is_err() {
            return Vec::new();
        }
        let store = FileStore::new(path);
        // A file that cannot be read lists no keys (`keys()` is a StoreError then).
        store
            .keys()
            .unwrap_or_default()
            .into_iter()
            .take(max_keys)
            .map(|key| {
                // FileStore::load does no real waiting: it reads the file synchronously.
                let loaded = futures::executor::block_on(store.load(&key));
                (key, loaded)
            })
            .collect()
    })
}
