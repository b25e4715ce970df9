//! Generates a client key pair for `private_key_jwt`.
//!
//! `cargo run -p fhir-smart --example keygen -- --alg ES384 --kid k1 --out DIR` writes
//! `DIR/private.pem` (PKCS#8, readable by the owner only) and `DIR/jwks.json` (the public
//! JWKS to register with the server or host at the app's JWKS URL).
// An example program reports on stdout/stderr and may exit early.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use fhir_smart::keys::{SigningAlgorithm, SigningKey, public_jwks_json};

struct Args {
    alg: SigningAlgorithm,
    kid: String,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut alg = SigningAlgorithm::Es384;
    let mut kid = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--alg" => alg = value()?.parse().map_err(|e| format!("--alg: {e}"))?,
            "--kid" => kid = Some(value()?),
            "--out" => out = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        alg,
        kid: kid.ok_or("--kid is required")?,
        out: out.ok_or("--out is required")?,
    })
}

fn write_private(path: &std::path::Path, pem: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(pem.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, pem)
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let key = SigningKey::generate(args.alg, &args.kid).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let private = args.out.join("private.pem");
    let pem = key.to_pkcs8_pem().map_err(|e| e.to_string())?;
    write_private(&private, pem.expose_secret())
        .map_err(|e| format!("{}: {e}", private.display()))?;
    let jwks = args.out.join("jwks.json");
    let json = public_jwks_json([&key]).map_err(|e| e.to_string())?;
    std::fs::write(&jwks, json + "\n").map_err(|e| format!("{}: {e}", jwks.display()))?;
    println!(
        "wrote {} and {} ({} kid={})",
        private.display(),
        jwks.display(),
        args.alg,
        args.kid
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!("usage: keygen --alg ES384|RS384 --kid KID --out DIR");
            ExitCode::FAILURE
        }
    }
}
