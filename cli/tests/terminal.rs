//! `twilio-oauth device-login` as a person sees it: run in a pseudo-terminal, it shows the user
//! code, the QR code and a spinner, and Ctrl-C cancels it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use common::*;
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

/// How long to wait for the command before calling it stuck (a safety net, not a measurement).
const STUCK: Duration = Duration::from_secs(60);

struct Terminal {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    seen: String,
    // Kept open until the end so the child's terminal stays alive.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Terminal {
    fn start(server: &MockServer, store: &std::path::Path) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 60,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(BIN);
        cmd.arg("device-login");
        for var in OUR_VARS {
            cmd.env_remove(var);
        }
        cmd.env_remove("NO_COLOR");
        cmd.env("TERM", "xterm-256color");
        for (key, value) in device_env(server, store) {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let (tx, output) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Terminal {
            child,
            writer,
            output,
            seen: String::new(),
            _master: pair.master,
        }
    }

    /// Reads until the output contains `needle`.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + STUCK;
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.seen.push_str(&String::from_utf8_lossy(&bytes)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {needle:?} on the terminal; it shows:\n{}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the terminal closed before {needle:?}; it showed:\n{}",
                        self.seen
                    )
                }
            }
        }
    }

    /// Waits for the command to end and returns its exit code and all it printed.
    fn finish(mut self) -> (u32, String) {
        let status = self.child.wait().unwrap();
        // The reader thread ends once the child's side of the terminal is closed.
        while let Ok(bytes) = self.output.recv_timeout(Duration::from_secs(2)) {
            self.seen.push_str(&String::from_utf8_lossy(&bytes));
        }
        (status.exit_code(), self.seen)
    }
}

/// True when five lines in a row are drawn with full blocks only: the large user code.
fn has_block_letters(screen: &str) -> bool {
    let plain = strip_ansi(screen);
    let block_line = |l: &str| {
        let l = l.trim_end_matches('\r');
        l.contains('█') && l.chars().all(|c| c == ' ' || c == '█')
    };
    plain
        .lines()
        .collect::<Vec<_>>()
        .windows(5)
        .any(|w| w.iter().all(|l| block_line(l)))
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then a final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_person_at_a_terminal_sees_the_code_large_and_a_qr_code_then_signs_in() {
    let server = server();
    server.update_config(|c| c.device_interval = Some(1));
    let (_dir, store) = store();
    let mut term = Terminal::start(&server, &store);
    term.expect("Waiting for approval");

    let code = server.devices()[0].user_code.clone();
    assert!(
        term.seen.contains(&code),
        "the user code is shown:\n{}",
        term.seen
    );
    assert!(
        term.seen.contains("/device"),
        "the verification URL is shown"
    );
    // The code in block letters, and the QR code in half blocks.
    assert!(has_block_letters(&term.seen), "{}", term.seen);
    assert!(
        term.seen.contains('▀') && term.seen.contains('▄'),
        "{}",
        term.seen
    );
    // The spinner shows the time left.
    assert!(term.seen.contains("expires in"), "{}", term.seen);

    assert!(server.approve(&code));
    term.expect("Signed in.");
    let (exit, seen) = term.finish();
    assert_eq!(exit, 0, "{seen}");
    assert_eq!(stored_tokens(&store).len(), 1);
    let mut secrets = stored_secrets(&store);
    secrets.extend(app_secrets());
    assert_no_secrets(&seen, &secrets);
}

#[test]
fn ctrl_c_at_the_terminal_cancels_the_login_with_exit_130_and_stores_nothing() {
    let server = server();
    server.update_config(|c| c.device_interval = Some(1));
    let (_dir, store) = store();
    let mut term = Terminal::start(&server, &store);
    term.expect("Waiting for approval");
    // Ctrl-C, as the terminal sends it.
    term.writer.write_all(b"\x03").unwrap();
    term.writer.flush().unwrap();
    term.expect("cancelled");
    let (exit, seen) = term.finish();
    assert_eq!(exit, 130, "{seen}");
    assert!(seen.contains("nothing was stored"), "{seen}");
    assert!(!store.exists());
}
