//! `cargo fa`: lints for framealloc misuse (work in progress, lands with the framealloc issue).
fn main() {
    eprintln!("cargo-fa: not implemented yet");
    std::process::exit(2);
}
