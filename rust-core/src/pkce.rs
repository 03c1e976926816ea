//! PKCE (RFC 7636, S256) and the authorization URL of the code flow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::PkceCodeVerifier;

/// What `authorization_url` returns: the URL to open in a browser, and what the app must keep
/// to finish the flow (`state` to check the redirect, `code_verifier` for the code exchange).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The `/v2/authorize` URL with `code_challenge` and `code_challenge_method=S256`.
    pub url: String,
    /// The `state` value the redirect must carry back.
    pub state: String,
    /// The PKCE verifier to send with `exchange_code`.
    pub code_verifier: PkceCodeVerifier,
}

/// A fresh verifier: 32 random bytes, base64url without padding (43 characters, the minimum
/// RFC 7636 allows and the most common choice).
pub fn new_code_verifier() -> PkceCodeVerifier {
    PkceCodeVerifier::new(random_urlsafe(32))
}

/// `BASE64URL(SHA256(verifier))`.
pub fn code_challenge(verifier: &PkceCodeVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.secret().as_bytes()))
}

/// Random bytes, base64url encoded: for `state` and verifiers.
pub(crate) fn random_urlsafe(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_length_is_within_rfc_7636_bounds() {
        let v = new_code_verifier();
        assert!((43..=128).contains(&v.secret().len()));
        assert!(
            v.secret()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn challenge_matches_the_rfc_7636_example() {
        let v = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            code_challenge(&v),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
