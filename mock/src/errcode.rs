//! Every `errcode` the mock answers with, declared once: the number, its name, whether it is
//! one of YCM's documented codes (YCM's Open API reference, "Known YCM error codes"; the
//! library's `src/errcodes.rs`) or the mock's own (YCM documents none for that case), and
//! what it means. For YCM's codes the `errmsg` sent is the name itself (`"INVALID_TOKEN"`);
//! the mock's own codes carry a message that says what is wrong. [`ALL`] lists them in the
//! order of the README's table, which a test compares with this declaration.

/// One error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrCode {
    /// The number sent as `errcode`.
    pub code: i64,
    /// Its name (for YCM's codes, also the `errmsg` sent).
    pub name: &'static str,
    /// Whether YCM documents this code (else it is the mock's own).
    pub documented_by_ycm: bool,
    /// When the mock answers with it.
    pub meaning: &'static str,
}

const fn ycm(code: i64, name: &'static str, meaning: &'static str) -> ErrCode {
    ErrCode {
        code,
        name,
        documented_by_ycm: true,
        meaning,
    }
}

const fn own(code: i64, name: &'static str, meaning: &'static str) -> ErrCode {
    ErrCode {
        code,
        name,
        documented_by_ycm: false,
        meaning,
    }
}

/// Client ID known, secret wrong (token endpoints).
pub const AUTHENTICATION_FAILED: ErrCode = ycm(
    1_000_002,
    "AUTHENTICATION_FAILED",
    "client credentials refused: the client ID is known, the secret is wrong or missing",
);
/// Client ID unknown or missing (token endpoints).
pub const INVALID_CLIENT: ErrCode = ycm(
    1_000_033,
    "INVALID_CLIENT",
    "client credentials refused: the client ID is unknown or missing",
);
/// An issued access token that has expired.
pub const TOKEN_EXPIRED: ErrCode = ycm(
    1_000_035,
    "TOKEN_EXPIRED",
    "the access token was issued but has expired",
);
/// Access token missing, malformed, unknown or revoked.
pub const INVALID_TOKEN: ErrCode = ycm(
    1_000_036,
    "INVALID_TOKEN",
    "the access token is missing, malformed, unknown, revoked or replaced by a refresh",
);
/// The client's token bucket is empty.
pub const RATE_LIMIT_EXCEEDED: ErrCode = ycm(
    1_000_040,
    "RATE_LIMIT_EXCEEDED",
    "the client's token bucket is empty; `Retry-After` says when to come back",
);
/// The source address is locked out of authentication.
pub const ACCESS_DENIED: ErrCode = ycm(
    1_000_042,
    "ACCESS_DENIED",
    "the source address is locked out after too many failed authentications",
);
/// A grant beyond `--max-tokens` valid access tokens.
pub const TOO_MANY_TOKENS: ErrCode = own(
    1_000_044,
    "TOO_MANY_TOKENS",
    "a grant beyond `--max-tokens` valid access tokens of the client (as P-Series refuses)",
);
/// Bad request: header, path, method, body size, token-endpoint form.
pub const BAD_REQUEST: ErrCode = own(
    10001,
    "BAD_REQUEST",
    "bad request: missing header, wrong content type, unknown path, wrong method, body too large, malformed token form",
);
/// A parameter breaks a rule.
pub const INVALID_PARAMETER: ErrCode = own(
    10002,
    "INVALID_PARAMETER",
    "a parameter breaks a rule (path, query, update field, grant type, refresh token)",
);
/// The PUT body is not a JSON object.
pub const MALFORMED_JSON: ErrCode = own(
    10003,
    "MALFORMED_JSON",
    "the PUT body is not valid JSON, or not a JSON object",
);
/// No user has that id.
pub const USER_NOT_FOUND: ErrCode = own(20001, "USER_NOT_FOUND", "no user has that id");
/// `pbxCreationLimit` below `createdCloudPbx`.
pub const LIMIT_BELOW_CREATED: ErrCode = own(
    20002,
    "LIMIT_BELOW_CREATED",
    "`pbxCreationLimit` below the user's `createdCloudPbx`",
);
/// `pbxCreationLimit` on a user who is not a reseller.
pub const LIMIT_NOT_RESELLER: ErrCode = own(
    20003,
    "LIMIT_NOT_RESELLER",
    "an integer `pbxCreationLimit` on a user who is not a reseller",
);

/// Every code the mock answers with, YCM's first.
pub const ALL: [ErrCode; 13] = [
    AUTHENTICATION_FAILED,
    INVALID_CLIENT,
    TOKEN_EXPIRED,
    INVALID_TOKEN,
    RATE_LIMIT_EXCEEDED,
    ACCESS_DENIED,
    TOO_MANY_TOKENS,
    BAD_REQUEST,
    INVALID_PARAMETER,
    MALFORMED_JSON,
    USER_NOT_FOUND,
    LIMIT_BELOW_CREATED,
    LIMIT_NOT_RESELLER,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_ycm_codes_come_first() {
        let mut codes: Vec<i64> = ALL.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        let mut names: Vec<&str> = ALL.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        let first_own = ALL.iter().position(|c| !c.documented_by_ycm);
        assert!(ALL[first_own.unwrap_or(ALL.len())..]
            .iter()
            .all(|c| !c.documented_by_ycm));
    }

    /// The rows of the README's "Error codes" table: (errcode, name, whose).
    fn readme_rows() -> Vec<(i64, String, String)> {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## Error codes\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("an Error codes section");
        section
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let code = cells.get(1)?.parse::<i64>().ok()?;
                let name = cells.get(2)?.trim_matches('`').to_string();
                Some((code, name, (*cells.get(3)?).to_string()))
            })
            .collect()
    }

    #[test]
    fn the_readme_table_lists_every_code_as_declared() {
        let declared: Vec<(i64, String, String)> = ALL
            .iter()
            .map(|c| {
                let whose = if c.documented_by_ycm { "YCM" } else { "mock" };
                (c.code, c.name.to_string(), whose.to_string())
            })
            .collect();
        assert_eq!(readme_rows(), declared);
    }
}
