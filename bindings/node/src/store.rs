//! A `TokenStore` implemented in JavaScript, called through a threadsafe function.
//!
//! The JavaScript layer hands over one async dispatcher `(op, key, token) => Promise<string |
//! null>`: `op` is `"load"`, `"save"` or `"delete"`; `load` resolves to the token's
//! `serialize()` JSON or `null`. The function is weak: a provider with a JavaScript store does
//! not keep the process alive.

use std::fmt;

use napi::Status;
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use twilio_oauth::{Error, Result, Token, TokenStore, async_trait};

use crate::token::NativeToken;

/// The arguments the dispatcher receives (spread: `op, key, token`).
pub(crate) type StoreCall = FnArgs<(String, String, Option<NativeToken>)>;

/// The dispatcher as napi receives it.
pub(crate) type StoreFn =
    ThreadsafeFunction<StoreCall, Promise<Option<String>>, StoreCall, Status, false, true>;

/// The core's `TokenStore` over a JavaScript object.
pub(crate) struct JsStore {
    call: StoreFn,
}

impl JsStore {
    pub(crate) fn new(call: StoreFn) -> Self {
        Self { call }
    }

    async fn invoke(&self, op: &str, key: &str, token: Option<&Token>) -> Result<Option<String>> {
        let args = FnArgs::from((
            op.to_owned(),
            key.to_owned(),
            token.cloned().map(NativeToken::new),
        ));
        let promise = self
            .call
            .call_async_catch(args)
            .await
            .map_err(|e| store_error(op, &e))?;
        promise.await.map_err(|e| store_error(op, &e))
    }
}

fn store_error(op: &str, e: &napi::Error) -> Error {
    Error::Store {
        message: format!("JavaScript TokenStore.{op} failed: {}", e.reason),
    }
}

impl fmt::Debug for JsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsStore")
    }
}

#[async_trait]
impl TokenStore for JsStore {
    async fn load(&self, key: &str) -> Result<Option<Token>> {
        match self.invoke("load", key, None).await? {
            Some(json) => Token::from_json(&json).map(Some),
            None => Ok(None),
        }
    }

    async fn save(&self, key: &str, token: &Token) -> Result<()> {
        self.invoke("save", key, Some(token)).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.invoke("delete", key, None).await.map(drop)
    }
}
