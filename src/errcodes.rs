//! YCM's own error codes that change what a client does (YCM's Open API reference, "Known
//! YCM error codes"), declared once: the number, YCM's name, what ycm does about it
//! ([`Reaction`]) and one sentence on what it means. A code acts the same whether it comes
//! with HTTP 200 or a 4xx; the transport, the token source and the response mapping all read
//! this table, and so do the docs.

/// What ycm does when a response carries a known code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reaction {
    /// The access token is stale: get a fresh one (once) and replay the request.
    RenewToken,
    /// The client ID's bucket is empty: pause everyone sharing the budget, then retry.
    Throttle,
    /// The client ID or secret was refused: never retried; the refusal latch records it.
    RefuseCredentials,
    /// Not allowed: reported at once, never retried.
    Deny,
}

/// One known YCM error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrCode {
    /// The number in the `errcode` member.
    pub number: i64,
    /// YCM's name for it.
    pub name: &'static str,
    /// What ycm does.
    pub reaction: Reaction,
    /// What it means, in one sentence.
    pub meaning: &'static str,
    /// What to do when a call fails with it (after ycm's own reaction did not help).
    pub what_to_do: &'static str,
}

/// Every code ycm acts on.
///
/// ```
/// let expired = ycm::errcodes::lookup(1000035).unwrap();
/// assert_eq!(expired.name, "TOKEN_EXPIRED");
/// assert_eq!(expired.reaction, ycm::errcodes::Reaction::RenewToken);
/// ```
pub const KNOWN: [ErrCode; 7] = [
    ErrCode {
        number: 1000002,
        name: "AUTHENTICATION_FAILED",
        reaction: Reaction::RefuseCredentials,
        meaning: "The client ID or secret is wrong.",
        what_to_do: "Fix the client secret (YCM console, Developer Platform); do not retry in a loop: YCM blocks the address after 5 failed authentications in a row. `ycm auth reset` clears the shared refusal latch once the secret is fixed.",
    },
    ErrCode {
        number: 1000033,
        name: "INVALID_CLIENT",
        reaction: Reaction::RefuseCredentials,
        meaning: "The client ID is unknown or not allowed to use the API.",
        what_to_do: "Check the client ID and that the API is enabled for it in YCM; as for 1000002, never retry a refused credential in a loop.",
    },
    ErrCode {
        number: 1000035,
        name: "TOKEN_EXPIRED",
        reaction: Reaction::RenewToken,
        meaning: "The access token has expired.",
        what_to_do: "Nothing: ycm renews the token once and replays the call. If it still fails, the clock of this machine may be far off, or another process revoked the tokens (a `DELETE .../refresh_token`).",
    },
    ErrCode {
        number: 1000036,
        name: "INVALID_TOKEN",
        reaction: Reaction::RenewToken,
        meaning: "The access token is not valid (revoked, unknown or malformed).",
        what_to_do: "With client credentials ycm renews the token once and replays; with a static `access_token`, get a new token and pass it with `ycm_client_set_access_token` (or the `access_token` key).",
    },
    ErrCode {
        number: 1000040,
        name: "RATE_LIMIT_EXCEEDED",
        reaction: Reaction::Throttle,
        meaning: "The client ID's request bucket is empty.",
        what_to_do: "Set `rate_limit` to the account's budget so ycm paces itself instead of being throttled, and share it (`shared_state` = `host` or a Redis URL) between every process using the same client ID.",
    },
    ErrCode {
        number: 1000042,
        name: "ACCESS_DENIED",
        reaction: Reaction::Deny,
        meaning: "Access is denied (for example by an IP restriction or a lock-out).",
        what_to_do: "The address is blocked (too many failed authentications, or an IP allow-list): fix the credentials, then ask the YCM administrator to unblock the address or wait for the block to expire.",
    },
    ErrCode {
        number: 1000043,
        name: "PERMISSION_DENIED",
        reaction: Reaction::Deny,
        meaning: "The client is not allowed this user or resource.",
        what_to_do: "The client ID lacks the permission for this user or resource: grant it in YCM, or leave that user out of the run.",
    },
];

/// The known code with this number.
pub fn lookup(number: i64) -> Option<&'static ErrCode> {
    KNOWN.iter().find(|code| code.number == number)
}
