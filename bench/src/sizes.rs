//! Deployment size: the stripped `bootstrap` and the zip Lambda receives.

use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct BinarySize {
    pub function: String,
    /// `x86_64` for this machine's build; `arm64` for the cross-compiled one Lambda runs.
    pub arch: &'static str,
    pub path: PathBuf,
    pub bootstrap_mib: f64,
    pub zip_mib: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

pub fn measure(function: &str, arch: &'static str, path: &Path) -> Result<BinarySize, String> {
    let bootstrap = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    Ok(BinarySize {
        function: function.to_owned(),
        arch,
        path: path.to_owned(),
        bootstrap_mib: bootstrap as f64 / MIB,
        zip_mib: zipped_len(path)? as f64 / MIB,
    })
}

/// Zips the file as `bootstrap` (deflate, Python's zipfile as SAM does) and
/// returns the archive's length.
fn zipped_len(path: &Path) -> Result<u64, String> {
    const SCRIPT: &str = "import io, sys, zipfile\n\
        buf = io.BytesIO()\n\
        with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:\n    z.write(sys.argv[1], 'bootstrap')\n\
        print(len(buf.getvalue()))";
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .map_err(|e| format!("python3 for zipping: {e}"))?;
    String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| String::from_utf8_lossy(&out.stderr).into_owned())
}
