//! The forms of the token requests (seeds `000`, `002`, `003`): what each call sends.

use std::fmt;

/// The form of the v1 `/v1/token` call (seed `000`). Unset fields are not sent.
#[derive(Clone, Default)]
pub struct V1TokenRequest {
    /// `GrantType`: `client_credentials`, `authorization_code`, `refresh_token` or the device
    /// code grant ([`crate::DEVICE_CODE_GRANT`]).
    pub grant_type: String,
    /// `Code` (authorization code).
    pub code: Option<String>,
    /// `CodeVerifier` (PKCE).
    pub code_verifier: Option<String>,
    /// `DeviceCode`.
    pub device_code: Option<String>,
    /// `DeviceId` (for refresh tokens bound to a device).
    pub device_id: Option<String>,
    /// `RefreshToken`.
    pub refresh_token: Option<String>,
}

/// The form of the v2 `/v2/token` call (seeds `002`/`003`). Unset fields are not sent.
#[derive(Clone, Default)]
pub struct V2TokenRequest {
    /// `grant_type`.
    pub grant_type: String,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `audience`.
    pub audience: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `code_verifier` (PKCE).
    pub code_verifier: Option<String>,
    /// The `account_sid` query parameter ("act on behalf of").
    pub account_sid: Option<String>,
}

macro_rules! redacted_debug {
    ($ty:ident, plain: [$($plain:ident),*], secret: [$($secret:ident),*]) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct(stringify!($ty));
                $(d.field(stringify!($plain), &self.$plain);)*
                $(d.field(stringify!($secret), &self.$secret.as_ref().map(|_| "[redacted]"));)*
                d.finish()
            }
        }
    };
}
redacted_debug!(V1TokenRequest, plain: [grant_type, device_id], secret: [code, code_verifier, device_code, refresh_token]);
redacted_debug!(V2TokenRequest, plain: [grant_type, redirect_uri, audience, scope, account_sid], secret: [code, refresh_token, code_verifier]);

fn push_opt<'a>(form: &mut Vec<(&'a str, &'a str)>, key: &'a str, value: &'a Option<String>) {
    if let Some(v) = value {
        form.push((key, v));
    }
}

impl V1TokenRequest {
    /// The PascalCase form of `/v1/token`; unset fields are not sent.
    pub(crate) fn form<'a>(
        &'a self,
        client_id: &'a str,
        client_secret: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![
            ("ClientSid", client_id),
            ("GrantType", self.grant_type.as_str()),
        ];
        if let Some(s) = client_secret {
            form.push(("ClientSecret", s));
        }
        push_opt(&mut form, "Code", &self.code);
        push_opt(&mut form, "CodeVerifier", &self.code_verifier);
        push_opt(&mut form, "DeviceCode", &self.device_code);
        push_opt(&mut form, "DeviceId", &self.device_id);
        push_opt(&mut form, "RefreshToken", &self.refresh_token);
        form
    }
}

impl V2TokenRequest {
    /// The snake_case form of `/v2/token`; unset fields are not sent (`account_sid` goes in
    /// the query).
    pub(crate) fn form<'a>(
        &'a self,
        client_id: &'a str,
        client_secret: Option<&'a str>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![
            ("grant_type", self.grant_type.as_str()),
            ("client_id", client_id),
        ];
        if let Some(s) = client_secret {
            form.push(("client_secret", s));
        }
        push_opt(&mut form, "code", &self.code);
        push_opt(&mut form, "redirect_uri", &self.redirect_uri);
        push_opt(&mut form, "audience", &self.audience);
        push_opt(&mut form, "refresh_token", &self.refresh_token);
        push_opt(&mut form, "scope", &self.scope);
        push_opt(&mut form, "code_verifier", &self.code_verifier);
        form
    }
}
