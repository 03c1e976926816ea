//! What goes over the wire and to disk: request forms, and the parsers of everything a server
//! or a file sends (token and device answers, error bodies, `Retry-After`, JWT claims, stored
//! tokens), with the redaction that keeps secrets out of messages. These are the parsers the
//! fuzz targets exercise.

pub(crate) mod device;
pub(crate) mod error;
pub(crate) mod form;
pub(crate) mod jwt;
pub(crate) mod redact;
pub(crate) mod stored;
pub(crate) mod token;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) fn epoch_secs(secs: f64) -> Option<SystemTime> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
}
