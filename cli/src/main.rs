//! The `ycm` binary: everything is in the `ycm_cli` library.

fn main() -> std::process::ExitCode {
    ycm_cli::main()
}
