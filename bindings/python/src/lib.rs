//! The python binding of twilio-oauth.
