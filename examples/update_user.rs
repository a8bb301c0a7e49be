//! Updates the company of a YCM user, then reads the user back (the Rust flavour of
//! bindings/c/examples/update_user.c and bindings/python/examples/update_user.py; the
//! documentation site includes it, and `make docs-examples` runs it against ycm-mock).
//!
//! Usage: cargo run --example update_user -- BASE_URL ACCESS_TOKEN USER_ID COMPANY

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, base_url, token, user_id, company] = &args[..] else {
        eprintln!("usage: update_user BASE_URL ACCESS_TOKEN USER_ID COMPANY");
        return ExitCode::from(2);
    };
    let Ok(user_id) = user_id.parse::<i64>() else {
        eprintln!("USER_ID must be an integer, got {user_id:?}");
        return ExitCode::from(2);
    };
    match run(base_url, token, user_id, company) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // ANCHOR: error
            // Every error has a stable code (its C name), a message that says what went
            // wrong, and what is known about the exchange.
            eprintln!("ycm {}: {e}", e.code().name());
            eprintln!(
                "  http_status={} attempts={} api_errcode={} requestId={}",
                e.info().http_status,
                e.info().attempts,
                e.info().api_errcode,
                e.info().request_id
            );
            // ANCHOR_END: error
            ExitCode::FAILURE
        }
    }
}

fn run(base_url: &str, token: &str, user_id: i64, company: &str) -> ycm::Result<()> {
    // ANCHOR: update
    use ycm::{Auth, Client, Config, Secret, UserUpdate};

    let config = Config::new(base_url, Auth::AccessToken(Secret::new(token)))?;
    let client = Client::new(config)?;
    let done = client.update_user(user_id, &UserUpdate::new().company(company))?;
    println!(
        "updated user {user_id}: requestId={} time={} (http {}, {} attempts)",
        done.info.request_id, done.info.time, done.info.http_status, done.info.attempts
    );
    let user = client.get_user(user_id)?;
    println!("user {user_id} now: company {:?}", user.value.company);
    // ANCHOR_END: update
    Ok(())
}
