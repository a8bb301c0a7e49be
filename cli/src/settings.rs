//! Settings: where the base URL, the credentials and the client options come from, highest
//! first: flags; the environment (`YCM_BASE_URL`, `YCM_ACCESS_TOKEN`, `YCM_CLIENT_ID`,
//! `YCM_CLIENT_SECRET`, `YCM_PROFILE`, `YCM_SHARED_STATE`, `YCM_PROXY`); the profile in `$XDG_CONFIG_HOME/ycm/config.toml`
//! (default `~/.config/ycm/config.toml`), one `[profiles.NAME]` table with the keys of the
//! library's `config_json` plus `client_secret_file`, `[profiles.default]` when none is
//! named; then the defaults (the library's, except `shared_state`, `host` here). The credentials are taken as a unit from the highest
//! layer that gives any (an access token from the environment replaces a profile's client
//! credentials rather than clashing with them). The result is the library's own
//! `config_json`, so every value is checked by the library, with its messages.

use crate::fail::Failure;
use crate::help;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The keys a profile may hold besides [`ycm::CONFIG_KEYS`].
pub const CLIENT_SECRET_FILE: &str = "client_secret_file";
const CREDENTIAL_KEYS: [&str; 4] = [
    "access_token",
    "client_id",
    "client_secret",
    CLIENT_SECRET_FILE,
];

/// The CLI's scope when none is set: every invocation on the host shares one token and one
/// rate budget (the library's own default is `process`).
pub const DEFAULT_SHARED_STATE: &str = "host";

/// How the settings were resolved, for `auth check` and messages (no secret in it).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The library's configuration JSON (holds the secret: never print it).
    pub config_json: String,
    /// The base URL in use.
    pub base_url: String,
    /// `access_token` or `client_credentials`.
    pub auth: &'static str,
    /// Where the credentials came from: `environment` or `profile NAME`.
    pub auth_source: String,
    /// The profile used, if one was found.
    pub profile: Option<String>,
}

/// The inputs of the resolution: flags and an environment reader (tests pass a map).
pub struct Inputs<'a> {
    /// `--base-url`.
    pub base_url: Option<&'a str>,
    /// `--profile`.
    pub profile: Option<&'a str>,
    /// `--timeout-ms`.
    pub timeout_ms: Option<u64>,
    /// `--shared-state`.
    pub shared_state: Option<&'a str>,
    /// `--proxy` (never with credentials).
    pub proxy: Option<&'a str>,
    /// Reads an environment variable (empty counts as unset).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// The settings file: `$XDG_CONFIG_HOME/ycm/config.toml`, else `~/.config/ycm/config.toml`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(xdg) = env("XDG_CONFIG_HOME").filter(|x| Path::new(x).is_absolute()) {
        return Some(Path::new(&xdg).join("ycm").join("config.toml"));
    }
    env("HOME").map(|home| {
        Path::new(&home)
            .join(".config")
            .join("ycm")
            .join("config.toml")
    })
}

/// Resolves the settings; `warn` receives the warnings (a settings file others can read).
pub fn resolve(inputs: &Inputs<'_>, warn: &mut dyn FnMut(String)) -> Result<Resolved, Failure> {
    let env = inputs.env;
    let named = inputs
        .profile
        .map(str::to_string)
        .or_else(|| env(help::PROFILE));
    let path = config_path(env);
    let profile = match &path {
        Some(path) => load_profile(path, named.as_deref(), warn)?,
        None => None,
    };
    if let (Some(name), None) = (&named, &profile) {
        let shown = path.map_or("the settings file".to_string(), |p| {
            format!("\"{}\"", p.display())
        });
        return Err(Failure::usage(format!(
            "profile \"{name}\" (from {}) is not in {shown}: add a [profiles.{name}] table or name another profile",
            if inputs.profile.is_some() { "--profile" } else { "YCM_PROFILE" }
        )));
    }
    let (profile_name, table) = match profile {
        Some((name, table)) => (Some(name), table),
        None => (None, Map::new()),
    };

    let mut config = Map::new();
    // Everything but the credentials and the base URL: the profile's, then flags.
    for (key, value) in &table {
        if !CREDENTIAL_KEYS.contains(&key.as_str()) && key != "base_url" {
            config.insert(key.clone(), value.clone());
        }
    }
    if let Some(ms) = inputs.timeout_ms {
        config.insert("timeout_ms".into(), Value::from(ms));
    }
    // Separate invocations share one token and one budget unless told otherwise.
    let scope = inputs
        .shared_state
        .map(str::to_string)
        .or_else(|| env(help::SHARED_STATE))
        .or_else(|| {
            table
                .get("shared_state")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| DEFAULT_SHARED_STATE.to_string());
    config.insert("shared_state".into(), Value::from(scope));
    // The proxy: the flag, YCM_PROXY, the profile's; else the library reads HTTPS_PROXY and
    // the other variables curl reads.
    if let Some(proxy) = inputs.proxy {
        if proxy.contains('@') {
            return Err(Failure::usage(
                "--proxy must not carry credentials (a flag shows in ps): put http://user:password@host:port in YCM_PROXY, HTTPS_PROXY or the profile's proxy key",
            ));
        }
        config.insert("proxy".into(), Value::from(proxy));
    } else if let Some(proxy) = env(help::PROXY) {
        config.insert("proxy".into(), Value::from(proxy));
    }

    let base_url = inputs
        .base_url
        .map(str::to_string)
        .or_else(|| env(help::BASE_URL))
        .or_else(|| table.get("base_url").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| {
            Failure::usage(
                "no base URL: give --base-url URL, set YCM_BASE_URL, or put base_url in a profile of the settings file",
            )
        })?;
    config.insert("base_url".into(), Value::from(base_url.clone()));

    let env_token = env(help::ACCESS_TOKEN);
    let env_id = env(help::CLIENT_ID);
    let env_secret = env(help::CLIENT_SECRET);
    let (auth, auth_source) = if env_token.is_some() || env_id.is_some() || env_secret.is_some() {
        match (env_token, env_id, env_secret) {
            (Some(token), None, None) => {
                config.insert("access_token".into(), Value::from(token));
                ("access_token", "environment".to_string())
            }
            (None, Some(id), Some(secret)) => {
                config.insert("client_id".into(), Value::from(id));
                config.insert("client_secret".into(), Value::from(secret));
                ("client_credentials", "environment".to_string())
            }
            (Some(_), _, _) => {
                return Err(Failure::usage(
                    "the environment sets YCM_ACCESS_TOKEN and YCM_CLIENT_ID/YCM_CLIENT_SECRET: set either the token or the client credentials",
                ))
            }
            (None, _, _) => {
                return Err(Failure::usage(
                    "YCM_CLIENT_ID and YCM_CLIENT_SECRET must be set together",
                ))
            }
        }
    } else {
        let name = profile_name.clone().unwrap_or_default();
        let source = format!("profile \"{name}\"");
        let text = |key: &str| -> Result<Option<String>, Failure> {
            match table.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Failure::usage(format!(
                    "profile \"{name}\": key \"{key}\" must be a string"
                ))),
            }
        };
        let secret = match (text("client_secret")?, text(CLIENT_SECRET_FILE)?) {
            (Some(_), Some(_)) => {
                return Err(Failure::usage(format!(
                    "profile \"{name}\" sets both client_secret and client_secret_file: keep one"
                )))
            }
            (Some(secret), None) => Some(secret),
            (None, Some(file)) => Some(read_secret_file(&name, Path::new(&file))?),
            (None, None) => None,
        };
        match (text("access_token")?, text("client_id")?, secret) {
            (Some(token), None, None) => {
                config.insert("access_token".into(), Value::from(token));
                ("access_token", source)
            }
            (None, Some(id), Some(secret)) => {
                config.insert("client_id".into(), Value::from(id));
                config.insert("client_secret".into(), Value::from(secret));
                ("client_credentials", source)
            }
            (None, None, None) => {
                return Err(Failure::usage(
                    "no credentials: set YCM_ACCESS_TOKEN, or YCM_CLIENT_ID and YCM_CLIENT_SECRET, or put access_token or client_id and client_secret_file in a profile (secrets are never taken as flags)",
                ))
            }
            (Some(_), _, _) => {
                return Err(Failure::usage(format!(
                    "profile \"{name}\" sets access_token and client credentials: keep one"
                )))
            }
            (None, _, _) => {
                return Err(Failure::usage(format!(
                    "profile \"{name}\": client_id needs client_secret_file (or client_secret), and the other way round"
                )))
            }
        }
    };
    Ok(Resolved {
        config_json: Value::Object(config).to_string(),
        base_url,
        auth,
        auth_source,
        profile: profile_name,
    })
}

/// A profile found: its name and its keys.
type Profile = (String, Map<String, Value>);

/// The named profile (or `default`), as a map of config keys; `None` when the file or the
/// profile does not exist.
fn load_profile(
    path: &Path,
    named: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Result<Option<Profile>, Failure> {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::usage(format!(
                "settings file \"{shown}\" cannot be read: {e}"
            )))
        }
    };
    let document: toml::Table = toml::from_str(&text)
        .map_err(|e| Failure::usage(format!("settings file \"{shown}\" is not valid TOML: {e}")))?;
    if let Some(holder) = secret_held(&document) {
        warn_if_readable_by_others(path, &format!("settings file (its {holder})"), warn);
    }
    if let Some(key) = document.keys().find(|k| k.as_str() != "profiles") {
        return Err(Failure::usage(format!(
            "settings file \"{shown}\": top-level key \"{key}\" is unknown; profiles go in [profiles.NAME] tables"
        )));
    }
    let Some(profiles) = document.get("profiles") else {
        return Ok(None);
    };
    let Some(profiles) = profiles.as_table() else {
        return Err(Failure::usage(format!(
            "settings file \"{shown}\": \"profiles\" must be a table of [profiles.NAME] tables"
        )));
    };
    let name = named.unwrap_or("default");
    let Some(profile) = profiles.get(name) else {
        return Ok(None);
    };
    let Some(profile) = profile.as_table() else {
        return Err(Failure::usage(format!(
            "settings file \"{shown}\": profiles.{name} must be a table"
        )));
    };
    let mut map = Map::new();
    for (key, value) in profile {
        if !ycm::CONFIG_KEYS.contains(&key.as_str()) && key != CLIENT_SECRET_FILE {
            return Err(Failure::usage(format!(
                "settings file \"{shown}\", profile \"{name}\": key \"{key}\" is unknown; known keys: {}, {CLIENT_SECRET_FILE}",
                ycm::CONFIG_KEYS.join(", ")
            )));
        }
        let value = serde_json::to_value(value).map_err(|e| {
            Failure::usage(format!(
                "settings file \"{shown}\", profile \"{name}\": key \"{key}\": {e}"
            ))
        })?;
        map.insert(key.clone(), value);
    }
    Ok(Some((name.to_string(), map)))
}

/// Where the settings document holds a secret, e.g. `profile "prod" access_token`: an
/// `access_token` or `client_secret`, or a `proxy` or `shared_state` URL carrying a
/// password; `None` when it holds none (then others may read it: a `client_secret_file`
/// reference is no secret).
pub fn secret_held(document: &toml::Table) -> Option<String> {
    let profiles = document.get("profiles")?.as_table()?;
    for (name, profile) in profiles {
        let Some(profile) = profile.as_table() else {
            continue;
        };
        for (key, value) in profile {
            let secret = match key.as_str() {
                "access_token" | "client_secret" => true,
                "proxy" | "shared_state" => value.as_str().is_some_and(|url| {
                    url.split_once("://")
                        .and_then(|(_, rest)| rest.split('/').next())
                        .is_some_and(|authority| authority.contains('@'))
                }),
                _ => false,
            };
            if secret {
                return Some(format!("profile \"{name}\" {key}"));
            }
        }
    }
    None
}

/// Reads a `client_secret_file`: its first line, without the line end, after checking the
/// open file's owner and mode with [`check_secret_file`] (on the descriptor read from, so the
/// file checked is the file read).
pub(crate) fn read_secret_file(profile: &str, path: &Path) -> Result<String, Failure> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let shown = path.display();
    let unreadable = |e: std::io::Error| {
        Failure::usage(format!(
            "profile \"{profile}\": client_secret_file \"{shown}\" cannot be read: {e}"
        ))
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    check_secret_file(path, meta.mode(), meta.uid(), me)
        .map_err(|why| Failure::usage(format!("profile \"{profile}\": {why}")))?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(unreadable)?;
    let secret = text.lines().next().unwrap_or("").trim_end().to_string();
    if secret.is_empty() {
        return Err(Failure::usage(format!(
            "profile \"{profile}\": client_secret_file \"{shown}\" is empty"
        )));
    }
    Ok(secret)
}

/// The rule for a `client_secret_file`, as ssh's for a private key and its config: no
/// permission bit for the group or others (mode `& 0o077` is 0: a secret others can read is
/// no longer a secret, and one they can write can be swapped for theirs), and owned by the
/// user running ycm or by root (another user owns the right to `chmod` it back open, as ssh's
/// "Bad owner or permissions" says). The refusal names the file, its mode or owner, and the
/// command that fixes it.
fn check_secret_file(path: &Path, mode: u32, owner: u32, me: u32) -> Result<(), String> {
    let shown = path.display();
    let quoted = shell_quote(&shown.to_string());
    if owner != me && owner != 0 {
        return Err(format!(
            "client_secret_file \"{shown}\" is owned by uid {owner}, not by uid {me} running ycm \
             (nor root): refused, as ssh refuses a key another user controls; take it over with \
             `chown {me} {quoted} && chmod 600 {quoted}`"
        ));
    }
    if mode & 0o077 != 0 {
        let who = match (mode & 0o070 != 0, mode & 0o007 != 0) {
            (true, true) => "its group and others",
            (true, false) => "its group",
            _ => "others",
        };
        let access = match (mode & 0o044 != 0, mode & 0o022 != 0) {
            (true, true) => "read and written",
            (true, false) => "read",
            (false, true) => "written",
            (false, false) => "used",
        };
        return Err(format!(
            "client_secret_file \"{shown}\" has mode {:04o}: it can be {access} by {who}, so \
             ycm refuses it (as ssh refuses an unprotected private key) and sends nothing; \
             run `chmod 600 {quoted}`",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// `text` as one shell word: itself when it holds only safe characters, else single-quoted.
fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Warns when a file that may hold secrets can be read by its group or by others.
fn warn_if_readable_by_others(path: &Path, what: &str, warn: &mut dyn FnMut(String)) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o044 != 0 {
            warn(format!(
                "warning: {what} \"{}\" is readable by {} (mode {:o}); it may hold secrets: chmod 600 it",
                path.display(),
                if mode & 0o004 != 0 { "others" } else { "its group" },
                mode & 0o777
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    #[test]
    fn a_secret_file_only_its_owner_can_use_passes() {
        for mode in [0o100600, 0o100400, 0o100700, 0o100200] {
            assert_eq!(check_secret_file(Path::new("/s"), mode, ME, ME), Ok(()));
        }
        // Root's own files are trusted (root can read everything anyway).
        assert_eq!(check_secret_file(Path::new("/s"), 0o100600, 0, ME), Ok(()));
    }

    #[test]
    fn group_or_other_bits_are_refused_with_the_chmod_to_run() {
        for (mode, access, who) in [
            (0o100644, "read", "its group and others"),
            (0o100640, "read", "its group"),
            (0o100604, "read", "others"),
            (0o100620, "written", "its group"),
            (0o100602, "written", "others"),
            (0o100666, "read and written", "its group and others"),
            (0o100610, "used", "its group"),
        ] {
            let why = check_secret_file(Path::new("/home/me/secret"), mode, ME, ME).unwrap_err();
            assert!(
                why.contains("\"/home/me/secret\"")
                    && why.contains(&format!("mode {:04o}", mode & 0o7777))
                    && why.contains(&format!("can be {access} by {who},"))
                    && why.contains("run `chmod 600 /home/me/secret`"),
                "{mode:o}: {why}"
            );
        }
    }

    #[test]
    fn another_users_file_is_refused_even_at_0600() {
        let why = check_secret_file(Path::new("/tmp/s"), 0o100600, 1001, ME).unwrap_err();
        assert!(
            why.contains("owned by uid 1001, not by uid 1000")
                && why.contains("chown 1000 /tmp/s && chmod 600 /tmp/s"),
            "{why}"
        );
    }

    #[test]
    fn paths_in_the_command_are_quoted_for_the_shell() {
        let why = check_secret_file(Path::new("/my dir/it's"), 0o100644, ME, ME).unwrap_err();
        assert!(why.contains(r"chmod 600 '/my dir/it'\''s'`"), "{why}");
    }
}
