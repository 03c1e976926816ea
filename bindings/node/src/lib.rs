//! The node binding of twilio-oauth.
