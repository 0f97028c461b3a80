//! `new` and `pki init`: a suite skeleton in a language, a test PKI for security profiles 2-3.
use std::{path::PathBuf, process::ExitCode};


pub(crate) fn new_suite(lang: ocpp_harness::scaffold::Lang, name: &str, dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let files = ocpp_harness::scaffold::scaffold(lang, name, &dir)?;
    for f in &files {
        say!("wrote {}", f.display());
    }
    say!("\nnext:\n{}", ocpp_harness::scaffold::next_steps(lang, name, &dir));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn pki_init(dir: &std::path::Path, station_id: &str, hosts: &[String]) -> anyhow::Result<ExitCode> {
    use ocpp_core::security::pki::{FILES, Pki};
    if let Some(f) = FILES.iter().find(|f| dir.join(f).exists()) {
        anyhow::bail!("{} already has {f}; not overwriting a PKI", dir.display());
    }
    Pki::generate(station_id, hosts)?.write(dir)?;
    say!("wrote a test PKI to {}: {} (CSMS certificate for {}, station certificate CN {station_id})", dir.display(), FILES.join(", "), hosts.join(", "));
    Ok(ExitCode::SUCCESS)
}
