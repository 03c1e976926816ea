//! Times for people: "12 min", "expires in 12 min", "expired 3 min ago", dates in UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A duration rounded for reading: "45 s", "12 min", "2 h 5 min", "3 days".
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7169 => format!("{} min", (s + 30) / 60),
        7170..=7199 => "2 h".to_owned(),
        7200..=172_799 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        _ => format!("{} days", s / 86_400),
    }
}

/// "in 12 min" or "3 min ago", relative to now.
pub fn relative(at: SystemTime) -> String {
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) if ahead.as_secs() > 0 => format!("in {}", duration(ahead)),
        Ok(_) => "just now".into(),
        Err(e) if e.duration().as_secs() == 0 => "just now".into(),
        Err(e) => format!("{} ago", duration(e.duration())),
    }
}

/// "expires in 12 min" or "expired 3 min ago".
pub fn expiry(at: SystemTime) -> String {
    match at.duration_since(SystemTime::now()) {
        Ok(ahead) if !ahead.is_zero() => format!("expires in {}", duration(ahead)),
        Ok(_) => "expired just now".into(),
        Err(e) => format!("expired {} ago", duration(e.duration())),
    }
}

/// "2026-11-23 19:20:00 UTC".
pub fn date(at: SystemTime) -> String {
    let t = OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// RFC 3339 in UTC, e.g. "2026-11-23T19:20:00Z".
pub fn rfc3339(at: SystemTime) -> String {
    // Whole seconds read better and are what the servers send.
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let t = OffsetDateTime::from(UNIX_EPOCH + Duration::from_secs(secs));
    t.format(&Rfc3339).unwrap_or_else(|_| secs.to_string())
}

/// A Unix timestamp (seconds, as in JWT claims) as a time, when it is a plausible one.
pub fn from_unix(secs: f64) -> Option<SystemTime> {
    if !secs.is_finite() || !(0.0..=1.0e11).contains(&secs) {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::from_secs_f64(secs))
}

/// "9:41" for a countdown.
pub fn countdown(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// A short wait with a sensible unit and precision: "4 µs", "290 µs", "3.2 ms", "104 ms".
#[cfg_attr(not(feature = "local-server"), allow(dead_code))] // used by the demo
pub fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{} µs", d.as_micros().max(1))
    } else if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(duration(Duration::from_secs(45)), "45 s");
        assert_eq!(duration(Duration::from_secs(12 * 60 + 5)), "12 min");
        assert_eq!(duration(Duration::from_secs(3599)), "60 min");
        assert_eq!(duration(Duration::from_secs(2 * 3600 + 300)), "2 h 5 min");
        assert_eq!(duration(Duration::from_secs(3 * 86_400)), "3 days");
    }

    #[test]
    fn expiry_says_expires_or_expired() {
        let later = SystemTime::now() + Duration::from_secs(12 * 60 + 30);
        assert_eq!(expiry(later), "expires in 12 min");
        let earlier = SystemTime::now() - Duration::from_secs(3 * 60 + 10);
        assert_eq!(expiry(earlier), "expired 3 min ago");
    }

    #[test]
    fn short_waits_use_microseconds() {
        assert_eq!(millis(Duration::from_nanos(300)), "1 µs");
        assert_eq!(millis(Duration::from_micros(290)), "290 µs");
        assert_eq!(millis(Duration::from_micros(3200)), "3.2 ms");
        assert_eq!(millis(Duration::from_millis(104)), "104 ms");
    }

    #[test]
    fn dates_are_utc_and_rfc3339_has_whole_seconds() {
        let t = UNIX_EPOCH + Duration::from_secs_f64(1_700_000_000.7);
        assert_eq!(date(t), "2023-11-14 22:13:20 UTC");
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
    }
}
