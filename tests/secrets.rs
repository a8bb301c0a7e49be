//! Secrets never leak: every error path of a static-token client and of a credentials
//! client is swept, including a server that echoes the request (Authorization header and
//! form body) into its error page, raw or in any encoding a server may use (JSON-escaped,
//! percent- or form-encoded, base64, HTML entities), with secrets made of every awkward
//! character class, and no message, Debug output or mock log line holds the access token,
//! the refresh token or the client secret, in any of those forms; nor the first 20 characters
//! a server that cuts what it echoes leaves of them; and a short secret is redacted as a word,
//! not inside the server's other words.

mod common;

use common::*;
use std::time::Duration;
use ycm::{Auth, Client, Code, Config, Secret, UserUpdate};
use ycm_mock::scripted::{response, Echo, ScriptedServer, Step};
use ycm_mock::{Faults, MockConfig};

const STATIC_TOKEN: &str = "StaticTokenValue0123456789";
const SECRET: &str = "ClientSecretValue0123456789";

fn attempts_everything(client: &Client) -> Vec<String> {
    let mut seen = Vec::new();
    let mut record = |result: ycm::Result<String>| {
        if let Err(e) = result {
            seen.push(format!("{e} | {e:?}"));
        }
    };
    let update = UserUpdate::new().company("x");
    record(client.update_user(13329, &update).map(|d| format!("{d:?}")));
    record(
        client
            .update_user(99_999_999, &update)
            .map(|d| format!("{d:?}")),
    );
    record(
        client
            .update_user_json(13329, "{\"x\":1}")
            .map(|d| format!("{d:?}")),
    );
    record(client.get_user(13329).map(|r| format!("{r:?}")));
    record(
        client
            .set_access_token("bad token\r\n")
            .map(|_| String::new()),
    );
    seen.push(format!("{client:?}"));
    seen
}

fn assert_clean(texts: &[String], secrets: &[&str]) {
    for text in texts {
        for secret in secrets {
            assert!(!text.contains(secret), "secret leaked in: {text}");
        }
    }
}

#[test]
fn a_server_echoing_the_request_is_scrubbed() {
    let server = ScriptedServer::start(vec![Step::Echo(400)]).unwrap();
    let config = Config::new(&server.url(), Auth::AccessToken(Secret::new(STATIC_TOKEN))).unwrap();
    let client = Client::new(config).unwrap();
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert!(err.to_string().contains("Bearer [REDACTED]"), "{err}");
    assert_clean(&attempts_everything(&client), &[STATIC_TOKEN]);

    let config = Config::new(&server.url(), credentials(SECRET)).unwrap();
    let client = Client::new(config).unwrap();
    let err = client
        .update_user(13329, &UserUpdate::new().company("x"))
        .unwrap_err();
    assert!(err.to_string().contains("[REDACTED]"), "{err}");
    assert_clean(&attempts_everything(&client), &[SECRET]);
}

#[test]
fn no_error_path_of_a_live_server_leaks_a_secret() {
    let server = mock_with(MockConfig {
        access_token: Some(STATIC_TOKEN.into()),
        client_secret: SECRET.into(),
        token_ttl: Duration::from_secs(1),
        ..MockConfig::default()
    });
    let static_client = token_client_with(&server, STATIC_TOKEN);
    let creds_client = credentials_client_secret(&server, SECRET);
    let wrong_secret = credentials_client_secret(&server, "WrongSecretValue0123456789");
    let mut texts = Vec::new();
    for client in [&static_client, &creds_client, &wrong_secret] {
        texts.extend(attempts_everything(client));
        server.set_faults(Faults {
            fail_next: 5,
            fail_status: 503,
            ..Faults::default()
        });
        texts.extend(attempts_everything(client));
        server.set_faults(Faults::default());
        server.expire_access_tokens();
        texts.extend(attempts_everything(client));
        server.revoke_tokens();
        texts.extend(attempts_everything(client));
    }
    std::thread::sleep(Duration::from_millis(1100));
    texts.extend(attempts_everything(&creds_client));
    texts.push(format!("{:?}", server.log()));
    assert!(server.stats().token_requests >= 3);
    assert_clean(
        &texts,
        &[STATIC_TOKEN, SECRET, "WrongSecretValue0123456789"],
    );
    // Issued access and refresh tokens, as logged by no one: the mock's log redacts them
    // and the client never formats them; the sweep above saw every message the client made.
}

fn credentials_client_secret(server: &ycm_mock::MockServer, secret: &str) -> Client {
    let config = Config::new(&server.url(), credentials(secret)).unwrap();
    Client::new(fast(config)).unwrap()
}

/// Client secrets made of every awkward character class: quote, backslash, slash, non-ASCII,
/// emoji, space, `+`, `%`, `&`, `<`, `>`, `~`, `=`, and text that looks like an escape.
const AWKWARD_SECRETS: [&str; 7] = [
    r#"q"uo"te\back\slash"#,
    "s/la/sh//x",
    "n\u{f6}n-\u{c4}SC\u{ef}\u{ef} \u{65e5}\u{672c}",
    "emoji \u{1f600}\u{1f511} key",
    "sp a+ce%25 &amp; <b>~=",
    "a\"b\\c/d \u{e9}\u{1f600} +%&<>~=",
    "%2F\\u0041&#39;+x",
];
/// Bearer tokens can only hold letters, digits and `-._~+/` (then `=`).
const AWKWARD_TOKENS: [&str; 2] = ["Tok/en+with~sl/ash.dot_dash-0==", "//++~~..__--=="];

/// `text` holds neither `secret` nor any of the forms the echoing peer sends it in, and the
/// echo did reach it (as `[REDACTED]`).
fn assert_scrubbed(text: &str, secret: &str, echo: Echo) {
    assert!(
        !text.contains(secret),
        "{echo:?}: the secret leaked in: {text}"
    );
    for form in Echo::ALL {
        let encoded = form.encode(secret);
        assert!(
            !text.contains(&encoded),
            "{echo:?}: the secret leaked {form:?}-encoded in: {text}"
        );
    }
    assert!(
        text.contains("[REDACTED]"),
        "{echo:?}: the echo did not reach: {text}"
    );
}

fn shown(error: &ycm::Error) -> String {
    format!("{error} | {error:?}")
}

#[test]
fn a_client_secret_echoed_in_any_encoding_is_redacted() {
    for echo in Echo::ALL {
        let server = ScriptedServer::start(vec![Step::EchoAs(400, echo)]).unwrap();
        for secret in AWKWARD_SECRETS {
            let config = Config::new(&server.url(), credentials(secret)).unwrap();
            let client = Client::new(fast(config)).unwrap();
            let update = UserUpdate::new().company("x");
            let first = client.update_user(13329, &update).unwrap_err();
            assert_eq!(first.code(), Code::Unauthorized, "{first}");
            assert_scrubbed(&shown(&first), secret, echo);
            // The refusal is cached and repeated by later calls: scrubbed there too.
            let again = client.get_user(13329).unwrap_err();
            assert!(again.to_string().contains("not sent again"), "{again}");
            assert_scrubbed(&shown(&again), secret, echo);
        }
    }
}

#[test]
fn an_access_token_echoed_in_any_encoding_is_redacted() {
    for status in [400, 401] {
        for echo in Echo::ALL {
            let server = ScriptedServer::start(vec![Step::EchoAs(status, echo)]).unwrap();
            for token in AWKWARD_TOKENS {
                let client = Client::new(
                    Config::new(&server.url(), Auth::AccessToken(Secret::new(token))).unwrap(),
                )
                .unwrap();
                let update = client.update_user(13329, &UserUpdate::new().company("x"));
                let read = client.get_user(13329);
                for error in [update.unwrap_err(), read.unwrap_err()] {
                    assert_scrubbed(&shown(&error), token, echo);
                }
            }
        }
    }
}

#[test]
fn a_refresh_token_echoed_in_any_encoding_is_redacted() {
    for echo in Echo::ALL {
        for refresh in AWKWARD_SECRETS {
            let grant = serde_json::json!({
                "access_token": "IssuedAccessToken0123",
                "refresh_token": refresh,
                "expires_in": 1800,
            })
            .to_string();
            // The grant, a 401 that sends the client to the refresh grant, then the echo
            // (HTTP 500: the only refresh failure a message quotes).
            let server = ScriptedServer::start(vec![
                Step::Send(response(200, &[], grant.as_bytes())),
                Step::Send(response(401, &[], b"")),
                Step::EchoAs(500, echo),
            ])
            .unwrap();
            let config = Config::new(&server.url(), credentials(SECRET)).unwrap();
            let client = Client::new(config.retries(0, Duration::ZERO, Duration::ZERO)).unwrap();
            let error = client.get_user(13329).unwrap_err();
            assert_eq!(error.code(), Code::Http, "{error}");
            assert!(error.to_string().contains("token endpoint"), "{error}");
            assert_scrubbed(&shown(&error), refresh, echo);
            assert_eq!(server.requests(), 3);
        }
    }
}

#[test]
fn a_credential_echoed_cut_to_its_first_20_characters_is_redacted() {
    let token = "abcdefghij0123456789KLMNOPQRSTUVWXYZ";
    for status in [400, 401] {
        let server = ScriptedServer::start(vec![Step::EchoAs(status, Echo::Cut20)]).unwrap();
        let client =
            Client::new(Config::new(&server.url(), Auth::AccessToken(Secret::new(token))).unwrap())
                .unwrap();
        let error = client
            .update_user(13329, &UserUpdate::new().company("x"))
            .unwrap_err();
        let text = shown(&error);
        assert!(
            text.contains("unknown credential [REDACTED]...") && !text.contains("abcdefghij0123"),
            "{text}"
        );
    }
    let server = ScriptedServer::start(vec![Step::EchoAs(400, Echo::Cut20)]).unwrap();
    let secret = "ClientSecretValue0123456789-and-more";
    let client = Client::new(fast(
        Config::new(&server.url(), credentials(secret)).unwrap(),
    ))
    .unwrap();
    let error = client.get_user(13329).unwrap_err();
    assert_eq!(error.code(), Code::Unauthorized, "{error}");
    let text = shown(&error);
    assert!(
        text.contains("[REDACTED]...") && !text.contains(&secret[..20]),
        "{text}"
    );
}

#[test]
fn a_short_token_is_redacted_as_a_word_not_inside_the_servers_words() {
    // "cred" is inside "credential" in every echo: only the echoed word goes.
    for echo in [Echo::JsonEnvelope, Echo::PercentUpper, Echo::HtmlNamed] {
        let server = ScriptedServer::start(vec![Step::EchoAs(401, echo)]).unwrap();
        let client = Client::new(
            Config::new(&server.url(), Auth::AccessToken(Secret::new("cred"))).unwrap(),
        )
        .unwrap();
        let error = client.get_user(13329).unwrap_err();
        let text = shown(&error);
        assert!(
            text.contains("credential [REDACTED]") && !text.contains("[REDACTED]ential"),
            "{echo:?}: {text}"
        );
        assert!(
            !text.contains(" cred ") && !text.contains("credential cred"),
            "{echo:?}: {text}"
        );
    }
}
