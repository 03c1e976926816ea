//! Output for people: colors and symbols on a terminal, plain text everywhere else.

use std::fmt::Display;
use std::io::IsTerminal;

use console::{Style, StyledObject};

/// True when stdout is a terminal (colors follow `console`'s rules: `NO_COLOR`, `CLICOLOR`).
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// True when stderr is a terminal.
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// True when ANSI colors go to stdout.
pub fn colors() -> bool {
    console::colors_enabled()
}

/// Bold text.
pub fn bold<D: Display>(d: D) -> StyledObject<D> {
    Style::new().bold().apply_to(d)
}

/// Dim text, for details.
pub fn dim<D: Display>(d: D) -> StyledObject<D> {
    Style::new().dim().apply_to(d)
}

/// Green text, for success.
pub fn green<D: Display>(d: D) -> StyledObject<D> {
    Style::new().green().apply_to(d)
}

/// Cyan text, for names and links.
pub fn cyan<D: Display>(d: D) -> StyledObject<D> {
    Style::new().cyan().apply_to(d)
}

/// Yellow text, for things that need attention.
pub fn yellow<D: Display>(d: D) -> StyledObject<D> {
    Style::new().yellow().apply_to(d)
}

/// A green check mark.
pub fn check() -> StyledObject<&'static str> {
    Style::new().green().bold().apply_to("✓")
}

/// Prints a failure on stderr: `error: …` then `hint: …`.
pub fn print_failure(message: &str, hint: Option<&str>) {
    let red = Style::new().red().bold().for_stderr();
    eprintln!("{} {message}", red.apply_to("error:"));
    if let Some(hint) = hint {
        eprintln!(
            "  {} {hint}",
            Style::new().yellow().for_stderr().apply_to("hint:")
        );
    }
}

/// Prints a warning on stderr: `warning: …` (the command still succeeds).
pub fn print_warning(message: &str) {
    let yellow = Style::new().yellow().bold().for_stderr();
    eprintln!("{} {message}", yellow.apply_to("warning:"));
}
