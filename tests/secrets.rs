//! Secrets never leak: every error path of a static-token client and of a credentials
//! client is swept, including a server that echoes the request (Authorization header and
//! form body) into its error page, and no message, Debug output or mock log line holds the
//! access token, the refresh token or the client secret.

mod common;

use common::*;
use std::time::Duration;
use ycm::{Auth, Client, Config, Secret, UserUpdate};
use ycm_mock::scripted::{ScriptedServer, Step};
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
