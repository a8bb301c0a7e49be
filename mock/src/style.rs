//! The error style: with which HTTP status a `Failed` envelope is sent. In the `http` style
//! (the default) each refusal has its own status (401, 403, 429, 400, ...; business errors
//! 200); in the `ok` style every `Failed` envelope, the token endpoints' and the rate
//! limiter's included, is sent with HTTP 200 (a throttled answer keeps its `Retry-After`),
//! so tests can check that a client acts on `errcode`, not only on the status. The public
//! [`ErrorStyle`] parses from and prints as `http` / `ok`; [`ErrorStyle::apply`] rewrites
//! one response, found by its [`FailedEnvelope`] mark, in the request pipeline.

use std::fmt;
use std::str::FromStr;

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::envelope::FailedEnvelope;

/// How `Failed` envelopes are sent: `Http` (each with its own status, the default) or `Ok`
/// (all with HTTP 200). In text and JSON: `"http"`, `"ok"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ErrorStyle {
    /// 4xx/429 for refusals (401 for tokens and credentials, 403 for lock-out and the token
    /// cap, 429 for throttling), 200 for business errors.
    #[default]
    Http,
    /// HTTP 200 for every `Failed` envelope.
    Ok,
}

impl ErrorStyle {
    /// The style's name: `http` or `ok`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorStyle::Http => "http",
            ErrorStyle::Ok => "ok",
        }
    }

    /// Sends `response` with HTTP 200 when it carries a `Failed` envelope and the style is
    /// `Ok`; leaves everything else (headers included) alone.
    pub(crate) fn apply(self, response: &mut Response) {
        if self == ErrorStyle::Ok && response.extensions().get::<FailedEnvelope>().is_some() {
            *response.status_mut() = StatusCode::OK;
        }
    }
}

impl fmt::Display for ErrorStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ErrorStyle {
    type Err = String;

    /// `http` or `ok` (any case, surrounding white space ignored).
    fn from_str(s: &str) -> Result<ErrorStyle, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http" => Ok(ErrorStyle::Http),
            "ok" => Ok(ErrorStyle::Ok),
            _ => Err(format!("expected an error style, http or ok, got {s:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{failed, success};

    #[test]
    fn parses_prints_and_serialises() {
        for style in [ErrorStyle::Http, ErrorStyle::Ok] {
            assert_eq!(style.to_string().parse::<ErrorStyle>(), Ok(style));
            let json = serde_json::to_string(&style).expect("json");
            assert_eq!(json, format!("\"{style}\""));
            assert_eq!(serde_json::from_str::<ErrorStyle>(&json).ok(), Some(style));
        }
        assert_eq!(" OK\n".parse::<ErrorStyle>(), Ok(ErrorStyle::Ok));
        assert!("200".parse::<ErrorStyle>().is_err());
        assert!("".parse::<ErrorStyle>().is_err());
        assert_eq!(ErrorStyle::default(), ErrorStyle::Http);
    }

    #[test]
    fn ok_rewrites_failed_envelopes_only() {
        let refused = || failed(StatusCode::UNAUTHORIZED, 1, "x");
        let mut response = refused();
        ErrorStyle::Http.apply(&mut response);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        ErrorStyle::Ok.apply(&mut response);
        assert_eq!(response.status(), StatusCode::OK);
        let mut plain = crate::faults::fail_response(StatusCode::SERVICE_UNAVAILABLE, None);
        ErrorStyle::Ok.apply(&mut plain);
        assert_eq!(
            plain.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "not an envelope"
        );
        let mut ok = success(None);
        ErrorStyle::Ok.apply(&mut ok);
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
