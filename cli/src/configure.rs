//! `ycm configure`: writes one `[profiles.NAME]` table of the settings file. What the flags
//! do not give is asked on a terminal (the secret at a prompt that does not echo it); off a
//! terminal a missing value is refused. A client secret typed or read from stdin goes into
//! `NAME.secret` beside the settings file (mode 0600) and the profile names it
//! (`client_secret_file`); an existing secret file given with `--client-secret-file` is only
//! named; a static access token is stored in the profile. The settings file is replaced by
//! temp file and rename with mode 0600; a new profile is appended to the text as it is
//! (comments kept), a replaced one (`--force`) rewrites the document. The profile written
//! is then resolved exactly as every other command resolves it, so what `configure`
//! accepts, `ycm --profile NAME ...` uses.

use crate::args::Configure;
use crate::fail::{self, Failure};
use crate::settings::{self, CLIENT_SECRET_FILE};
use crate::{help, output, Context};
use serde_json::{Map, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The profile's credentials, as they will be written.
enum Credentials {
    /// `access_token` in the profile.
    Token(String),
    /// `client_id` and a `client_secret_file`, with the secret to write there if new.
    Client {
        id: String,
        file: PathBuf,
        secret: Option<String>,
    },
}

/// Runs `ycm configure`.
pub fn run(context: &Context, args: &Configure) -> Result<u8, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let path = settings::config_path(&env).ok_or_else(|| {
        Failure::usage("no settings directory: set HOME or XDG_CONFIG_HOME (an absolute path)")
    })?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let name = context
        .global
        .profile
        .clone()
        .or_else(|| env(help::PROFILE))
        .unwrap_or_else(|| "default".to_string());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(Failure::usage(format!(
            "profile name \"{name}\": use letters, digits, - and _"
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let existing = read_document(&path)?;
    let exists = existing
        .as_ref()
        .and_then(|(_, doc)| doc.get("profiles")?.as_table()?.get(&name).cloned())
        .is_some();
    if exists && !args.force {
        let replace = interactive
            && ask(&format!(
                "Profile \"{name}\" exists in {}. Replace it? [y/N] ",
                path.display()
            ))?
            .eq_ignore_ascii_case("y");
        if !replace {
            return Err(Failure::usage(format!(
                "profile \"{name}\" exists in \"{}\": pass --force to replace it, or name another with --profile",
                path.display()
            )));
        }
    }

    let base_url = match &context.global.base_url {
        Some(url) => url.clone(),
        None if interactive => ask("YCM base URL (e.g. https://ycm.example.com): ")?,
        None => {
            return Err(Failure::usage(
                "configure: give --base-url URL (stdin is not a terminal to ask on)",
            ))
        }
    };
    if base_url.is_empty() {
        return Err(Failure::usage("configure: the base URL is empty"));
    }
    let credentials = credentials(args, interactive, &dir, &name)?;

    let mut table = toml::Table::new();
    table.insert("base_url".into(), base_url.clone().into());
    let auth = match &credentials {
        Credentials::Token(token) => {
            table.insert("access_token".into(), token.clone().into());
            "access_token"
        }
        Credentials::Client { id, file, .. } => {
            table.insert("client_id".into(), id.clone().into());
            table.insert(CLIENT_SECRET_FILE.into(), file.display().to_string().into());
            "client_credentials"
        }
    };
    let text = document_text(existing, &name, table, exists)?;
    create_private_dir(&dir)?;
    if let Credentials::Client {
        file,
        secret: Some(secret),
        ..
    } = &credentials
    {
        write_private(file, format!("{secret}\n").as_bytes())?;
    }
    write_private(&path, text.as_bytes())?;

    // Resolved as any command would: a profile the library refuses is said now.
    let only_files = |key: &str| match key {
        "HOME" | "XDG_CONFIG_HOME" => env(key),
        _ => None,
    };
    let inputs = settings::Inputs {
        base_url: None,
        profile: Some(&name),
        timeout_ms: None,
        // The profile is checked, not where this host keeps shared state.
        shared_state: Some("process"),
        proxy: None,
        env: &only_files,
    };
    let resolved = settings::resolve(&inputs, &mut |_| {})?;
    ycm::Client::from_json(&resolved.config_json)?;

    let mut result = Map::new();
    result.insert("profile".into(), name.clone().into());
    result.insert("path".into(), path.display().to_string().into());
    result.insert("baseUrl".into(), base_url.into());
    result.insert("auth".into(), auth.into());
    result.insert(
        "clientSecretFile".into(),
        match &credentials {
            Credentials::Client { file, .. } => file.display().to_string().into(),
            Credentials::Token(_) => Value::Null,
        },
    );
    let mut out = std::io::stdout().lock();
    output::object(&mut out, context.format, &result).map_err(output::write_error)?;
    let named = if name == "default" {
        String::new()
    } else {
        format!("--profile {name} ")
    };
    context.note(&format!(
        "ycm: profile \"{name}\" written to {}; check it with `ycm {named}auth check`",
        path.display()
    ));
    Ok(fail::OK)
}

/// The credentials from the flags, stdin or the prompts.
fn credentials(
    args: &Configure,
    interactive: bool,
    dir: &Path,
    name: &str,
) -> Result<Credentials, Failure> {
    let secret_path = dir.join(format!("{name}.secret"));
    if let Some(file) = &args.client_secret_file {
        let id = args.client_id.clone().unwrap_or_default();
        let file = std::path::absolute(file).map_err(|e| {
            Failure::usage(format!("--client-secret-file \"{}\": {e}", file.display()))
        })?;
        settings::read_secret_file(name, &file)?;
        return Ok(Credentials::Client {
            id,
            file,
            secret: None,
        });
    }
    if args.secret_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("--secret-stdin: cannot read stdin: {e}")))?;
        let secret = line.trim_end_matches(['\r', '\n']).to_string();
        if secret.is_empty() {
            return Err(Failure::usage(
                "--secret-stdin: stdin's first line is empty",
            ));
        }
        return Ok(match &args.client_id {
            Some(id) => Credentials::Client {
                id: id.clone(),
                file: secret_path,
                secret: Some(secret),
            },
            None => Credentials::Token(secret),
        });
    }
    if !interactive {
        return Err(Failure::usage(
            "configure: no secret: give --client-id ID with --client-secret-file FILE or --secret-stdin, or --secret-stdin alone for an access token (stdin is not a terminal to ask on)",
        ));
    }
    let id = match &args.client_id {
        Some(id) => id.clone(),
        None => ask("Client ID (empty to use a static access token instead): ")?,
    };
    if id.is_empty() {
        let token = ask_hidden("Access token (not shown): ")?;
        if token.is_empty() {
            return Err(Failure::usage("configure: the access token is empty"));
        }
        return Ok(Credentials::Token(token));
    }
    let secret = ask_hidden("Client secret (not shown): ")?;
    if secret.is_empty() {
        return Err(Failure::usage("configure: the client secret is empty"));
    }
    Ok(Credentials::Client {
        id,
        file: secret_path,
        secret: Some(secret),
    })
}

/// The settings file's text and document, when it exists.
fn read_document(path: &Path) -> Result<Option<(String, toml::Table)>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let document = toml::from_str(&text).map_err(|e| {
                Failure::usage(format!(
                    "settings file \"{}\" is not valid TOML ({e}): fix or move it first",
                    path.display()
                ))
            })?;
            Ok(Some((text, document)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::usage(format!(
            "settings file \"{}\" cannot be read: {e}",
            path.display()
        ))),
    }
}

/// The new text: the old one with the profile appended, or the document rewritten with the
/// profile replaced.
fn document_text(
    existing: Option<(String, toml::Table)>,
    name: &str,
    profile: toml::Table,
    replace: bool,
) -> Result<String, Failure> {
    let serialize = |document: &toml::Table| {
        toml::to_string(document)
            .map_err(|e| Failure::error(format!("cannot write the settings: {e}")))
    };
    let mut alone = toml::Table::new();
    let mut profiles = toml::Table::new();
    profiles.insert(name.to_string(), profile.clone().into());
    alone.insert("profiles".into(), profiles.into());
    match existing {
        None => serialize(&alone),
        Some((text, _)) if !replace => {
            let mut text = text;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            if !text.is_empty() {
                text.push('\n');
            }
            Ok(text + &serialize(&alone)?)
        }
        Some((_, mut document)) => {
            let profiles = document
                .entry("profiles")
                .or_insert_with(|| toml::Table::new().into());
            let Some(profiles) = profiles.as_table_mut() else {
                return Err(Failure::usage(
                    "settings file: \"profiles\" is not a table: fix it first",
                ));
            };
            profiles.insert(name.to_string(), profile.into());
            serialize(&document)
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Failure::error(format!("cannot create \"{}\": {e}", dir.display())))
}

/// Replaces `path` with `bytes` by a 0600 temp file beside it, synced, then renamed.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail =
        |e: std::io::Error| Failure::error(format!("cannot write \"{}\": {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}

/// Asks on stderr, reads one line of stdin (trimmed).
fn ask(prompt: &str) -> Result<String, Failure> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::error(format!("cannot read the answer: {e}")))?;
    if n == 0 {
        return Err(Failure::usage(
            "configure: no answer (end of input); nothing was written",
        ));
    }
    Ok(line.trim().to_string())
}

/// Asks for a secret: the terminal's echo off and its line editing and signal keys taken
/// over (raw bytes one at a time), so that Ctrl-C ends the prompt here, with the terminal
/// restored (a killed process would leave it without echo), and exits 130 with nothing
/// written. Backspace edits; Enter ends; Ctrl-D on an empty line ends the input.
fn ask_hidden(prompt: &str) -> Result<String, Failure> {
    struct Restore(libc::termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: fd 0 and a termios that tcgetattr filled from it.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.0) };
        }
    }
    // SAFETY: a zeroed termios is a valid out-parameter; fd 0 is stdin.
    let saved = unsafe {
        let mut saved: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut saved) == 0).then_some(saved)
    };
    let Some(saved) = saved else {
        return ask(prompt);
    };
    let _restore = Restore(saved);
    let mut raw = saved;
    raw.c_lflag &= !(libc::ECHO | libc::ICANON | libc::ISIG);
    raw.c_cc[libc::VMIN] = 1;
    raw.c_cc[libc::VTIME] = 0;
    // SAFETY: as above.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut secret = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let mut byte = [0u8; 1];
    let ended = loop {
        match std::io::Read::read(&mut stdin, &mut byte) {
            Ok(0) => break Ok(()),
            Ok(_) => match byte[0] {
                b'\r' | b'\n' => break Ok(()),
                0x03 => break Err(interrupted()),
                0x04 if secret.is_empty() => break Ok(()),
                // One character back: its continuation bytes, then its first.
                0x7f | 0x08 => while secret.pop().is_some_and(|b| b & 0xC0 == 0x80) {},
                b => secret.push(b),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(Failure::error(format!("cannot read the answer: {e}"))),
        }
    };
    let _ = writeln!(err);
    ended?;
    String::from_utf8(secret)
        .map(|s| s.trim().to_string())
        .map_err(|_| Failure::usage("configure: the secret typed is not UTF-8"))
}

/// Ctrl-C at a prompt: exit 130, nothing written.
fn interrupted() -> Failure {
    Failure {
        exit: fail::INTERRUPTED,
        code: ycm::Code::Cancelled.name().into(),
        message: "configure: interrupted; nothing was written".into(),
        info: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_profile_is_appended_with_the_comments_kept() {
        let text = "# my settings\n[profiles.default]\nbase_url = \"https://a\"\n";
        let document: toml::Table = toml::from_str(text).unwrap();
        let mut profile = toml::Table::new();
        profile.insert("base_url".into(), "https://b".into());
        let out = document_text(Some((text.into(), document)), "b", profile, false).unwrap();
        assert!(out.starts_with(text), "{out}");
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(
            parsed["profiles"]["b"]["base_url"].as_str(),
            Some("https://b")
        );
        assert_eq!(
            parsed["profiles"]["default"]["base_url"].as_str(),
            Some("https://a")
        );
    }
}
