//! The man pages: one per command (`ycm.1`, `ycm-users.1`, `ycm-users-get.1`, ...), each
//! clap_mangen's NAME, SYNOPSIS, DESCRIPTION, OPTIONS and SUBCOMMANDS sections followed by
//! EXAMPLES (the command's own, from [`help::EXAMPLES`]), EXIT STATUS ([`fail::EXIT_CODES`]),
//! ENVIRONMENT ([`help::ENVIRONMENT`]), FILES ([`help::files`]) and SEE ALSO: the same
//! declarations that `--help` and `ycm help exit-codes` show, so a page cannot drift from
//! the binary.

use crate::{fail, help};
use roff::{bold, italic, roman, Roff};
use std::io::Write;
use std::path::Path;

/// Writes every page into `dir`.
pub fn write_pages(dir: &Path) -> std::io::Result<()> {
    let mut command = crate::command();
    command.build();
    write_tree(&command, "", dir)
}

fn write_tree(command: &clap::Command, path: &str, dir: &Path) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    let mut file = std::fs::File::create(dir.join(man.get_filename()))?;
    page(command, path, &mut file)?;
    file.flush()?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let child = if path.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{path} {}", sub.get_name())
        };
        write_tree(sub, &child, dir)?;
    }
    Ok(())
}

/// One page: the command at `path` (`"users get"`; `""` is `ycm`).
pub fn page(command: &clap::Command, path: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    let mut roff = Roff::new();
    section(&mut roff, "EXAMPLES");
    for (what, line) in help::examples_of(path) {
        roff.control("TP", []).text([roman(*what)]);
        roff.control("EX", [])
            .text([roman(*line)])
            .control("EE", []);
    }
    section(&mut roff, "EXIT STATUS");
    for (code, meaning) in fail::EXIT_CODES {
        roff.control("TP", [])
            .text([bold(code.to_string())])
            .text([roman(meaning)]);
    }
    section(&mut roff, "ENVIRONMENT");
    for (name, meaning) in help::ENVIRONMENT {
        roff.control("TP", [])
            .text([bold(name)])
            .text([roman(meaning)]);
    }
    section(&mut roff, "FILES");
    for (file, meaning) in help::files() {
        roff.control("TP", [])
            .text([italic(file)])
            .text([roman(meaning)]);
    }
    section(&mut roff, "SEE ALSO");
    let mut see: Vec<String> = Vec::new();
    if !path.is_empty() {
        see.push("ycm(1)".into());
    }
    let prefix = if path.is_empty() {
        "ycm".to_string()
    } else {
        format!("ycm-{}", path.replace(' ', "-"))
    };
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        see.push(format!("{prefix}-{}(1)", sub.get_name()));
    }
    see.push("the project's README (`ycm help exit-codes` prints the exit codes)".into());
    roff.text([roman(see.join(", "))]);
    roff.to_writer(out)?;
    if command.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

fn section(roff: &mut Roff, title: &str) {
    roff.control("SH", [title]);
}
