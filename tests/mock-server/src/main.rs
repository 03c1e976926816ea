//! `twilio-oauth-mock`: runs the mock Twilio OAuth server until killed.
//!
//! Prints exactly one line, `listening on http://HOST:PORT` (`https://` with `--tls`), on
//! stdout, and the credentials on stderr. With `--exit-on-stdin-eof` it also exits when its
//! standard input closes, so that a test harness that dies does not leave it running. With
//! `--tls` it serves HTTPS with a CA made at start, written to `--ca-out FILE` before the line
//! is printed. The port is also a `CONNECT` proxy that counts its tunnels.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::process::ExitCode;

use twilio_oauth_mock::{
    ACCOUNT_SID, AUTH_TOKEN, CLIENT_ID, CLIENT_SECRET, MockConfig, MockServer, PUBLIC_CLIENT_ID,
    ServeOptions,
};

const USAGE: &str = "usage: twilio-oauth-mock [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof] [--config JSON] [--tls] [--ca-out FILE]

Runs a local stand-in for oauth.twilio.com. Prints `listening on http://HOST:PORT` on stdout,
then serves until SIGINT/SIGTERM (or stdin EOF with --exit-on-stdin-eof).
--config takes a JSON object of MockConfig fields (as POST /admin/config does).
--tls serves HTTPS (`listening on https://HOST:PORT`) with a certificate for localhost,
127.0.0.1 and ::1, signed by a CA made at start; plain HTTP still works on the same port.
--ca-out FILE writes that CA's PEM to FILE before the line is printed (implies --tls).
The port is also a forward proxy: CONNECT to a loopback host:port opens a tunnel, counted as
`tunnels` in GET /admin/stats.";

struct Args {
    host: String,
    port: u16,
    exit_on_stdin_eof: bool,
    config: Option<serde_json::Value>,
    tls: bool,
    ca_out: Option<std::path::PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        host: "127.0.0.1".to_owned(),
        port: 0,
        exit_on_stdin_eof: false,
        config: None,
        tls: false,
        ca_out: None,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--host" => parsed.host = value("--host")?,
            "--port" => {
                let text = value("--port")?;
                parsed.port = text
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {text}"))?;
            }
            "--config" => {
                let text = value("--config")?;
                parsed.config =
                    Some(serde_json::from_str(&text).map_err(|e| format!("--config: {e}"))?);
            }
            "--exit-on-stdin-eof" => parsed.exit_on_stdin_eof = true,
            "--tls" => parsed.tls = true,
            "--ca-out" => {
                parsed.ca_out = Some(value("--ca-out")?.into());
                parsed.tls = true;
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("twilio-oauth-mock: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("twilio-oauth-mock: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("twilio-oauth-mock: {e}");
            ExitCode::FAILURE
        }
    }
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}"))
}

async fn run(args: Args) -> Result<(), String> {
    let addr = resolve(&args.host, args.port)?;
    let server = MockServer::bind_with(addr, ServeOptions { tls: args.tls })
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    if let (Some(path), Some(pem)) = (&args.ca_out, server.ca_pem()) {
        std::fs::write(path, pem)
            .map_err(|e| format!("--ca-out: cannot write {}: {e}", path.display()))?;
    }
    if let Some(patch) = &args.config {
        let config: MockConfig = server.config().merged(patch)?;
        server.set_config(config);
    }
    eprintln!(
        "twilio-oauth-mock credentials:\n  client id (confidential): {CLIENT_ID}\n  client secret:            {CLIENT_SECRET}\n  client id (public):       {PUBLIC_CLIENT_ID}\n  account SID:              {ACCOUNT_SID}\n  auth token:               {AUTH_TOKEN}\n  admin API:                {}/admin/config, /admin/faults, /admin/device, /admin/stats, /admin/requests, /admin/reset",
        server.url()
    );
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);

    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    // Without --exit-on-stdin-eof the sender stays here, alive, so the receiver never fires.
    let mut eof_tx = Some(eof_tx);
    if args.exit_on_stdin_eof {
        let eof_tx = eof_tx.take();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            if let Some(eof_tx) = eof_tx {
                let _ = eof_tx.send(());
            }
        });
    }
    let stdin_eof = async {
        if eof_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = terminate_signal() => eprintln!("twilio-oauth-mock: signal received, exiting"),
        () = stdin_eof => eprintln!("twilio-oauth-mock: stdin closed, exiting"),
    }
    drop(eof_tx);
    drop(server);
    Ok(())
}

#[cfg(unix)]
async fn terminate_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn terminate_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
