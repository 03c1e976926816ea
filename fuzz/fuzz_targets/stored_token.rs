//! What a token store reads back: one stored token (`Token::from_json`, `schema_version` 1), and
//! the `FileStore`'s whole file (`{"schema_version": 1, "tokens": {key: token}}`) loaded key by
//! key. A bad file or a bad token is ignored or a typed error, never a panic.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use twilio_oauth::{MAX_LIFETIME, Token, fuzzing};

fuzz_target!(|data: &[u8]| {
    let text = twilio_oauth_fuzz::text(data);
    if let Ok(token) = Token::from_json(&text) {
        check(&token);
    }
    for (_key, loaded) in fuzzing::load_store_file(data, 8) {
        // The file store logs and skips an unreadable token rather than failing.
        assert!(loaded.is_ok(), "FileStore::load failed: {loaded:?}");
        if let Ok(Some(token)) = loaded {
            check(&token);
        }
    }
});

fn check(token: &Token) {
    assert!(!token.access_token().secret().is_empty());
    assert!(token.expires_in() <= MAX_LIFETIME + Duration::from_secs(1));
    let _ = (
        token.to_string(),
        format!("{token:?}"),
        token.scope(),
        token.expires_at(),
    );
    let back = Token::from_json(&token.to_json());
    assert!(back.is_ok(), "a loaded token does not reload: {back:?}");
}
