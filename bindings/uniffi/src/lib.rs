//! The uniffi binding of twilio-oauth.
