//! Helpers shared by the fuzz targets: how one fuzz input becomes an HTTP answer.

/// An HTTP answer as a fuzz input describes it.
///
/// An input whose first line is `STATUS` or `STATUS HEADER-VALUE` (three digits, then an
/// optional space and header value) sets the status and one header (`Date` for token responses,
/// `Retry-After` for error bodies); the rest after that line is the body. Any other input is all
/// body, with the target's default status and no header. So seeds stay readable, e.g.
///
/// ```text
/// 200 Tue, 15 Nov 2024 08:12:31 GMT
/// {"access_token": "eyJ…", "expires_in": 3600}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The header value, when the first line carried one.
    pub header: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> Exchange<'a> {
    /// Splits `data` as described on [`Exchange`].
    #[must_use]
    pub fn parse(data: &'a [u8], default_status: u16) -> Self {
        let whole = Exchange {
            status: default_status,
            header: None,
            body: data,
        };
        let Some(newline) = data.iter().position(|&b| b == b'\n') else {
            return whole;
        };
        let Ok(head) = std::str::from_utf8(&data[..newline]) else {
            return whole;
        };
        let head = head.strip_suffix('\r').unwrap_or(head);
        let (code, header) = match head.split_once(' ') {
            Some((code, value)) => (code, Some(value)),
            None => (head, None),
        };
        match code.parse::<u16>() {
            Ok(status) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => Exchange {
                status,
                header,
                body: &data[newline + 1..],
            },
            _ => whole,
        }
    }
}

/// The input as text: production strings come from JSON or from header values, so they are
/// always UTF-8; invalid bytes become U+FFFD rather than being thrown away.
#[must_use]
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_sets_status_and_header() {
        let e = Exchange::parse(b"429 120\r\n{\"code\":20429}", 400);
        assert_eq!(e.status, 429);
        assert_eq!(e.header, Some("120"));
        assert_eq!(e.body, b"{\"code\":20429}");
        let e = Exchange::parse(b"503\n<html>", 400);
        assert_eq!((e.status, e.header, e.body), (503, None, &b"<html>"[..]));
    }

    #[test]
    fn anything_else_is_all_body() {
        for input in [
            &b"{\n\"a\": 1}"[..],
            b"+20 x\nbody",
            b"2000\nbody",
            b"no newline",
        ] {
            let e = Exchange::parse(input, 200);
            assert_eq!((e.status, e.header, e.body), (200, None, input));
        }
    }
}
