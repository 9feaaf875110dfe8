//! The `claim-registry` binary; everything it does is in the library, starting at
//! [`claim_registry::cli::main`].

fn main() -> std::process::ExitCode {
    claim_registry::cli::main()
}
