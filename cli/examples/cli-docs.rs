//! Writes the shell completions and the man pages of `ycm` into a directory (`make
//! cli-docs`: `target/cli/completions/`, `target/cli/man/`).

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: cli-docs DIR");
        return std::process::ExitCode::from(2);
    };
    match ycm_cli::write_docs(std::path::Path::new(&dir)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cli-docs: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
