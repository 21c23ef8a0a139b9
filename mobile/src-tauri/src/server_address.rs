//! Which server the app talks to, read at start-up rather than fixed at compile time, so that
//! one desktop build serves any deployment. The first of these that is set wins:
//!
//! 1. `GUICHET_SERVER_URL` in the environment (a tester, a packaged launcher);
//! 2. `server_url` in `settings.toml` in the app's configuration folder
//!    (`~/.config/fr.guichet.citoyen/` on Linux);
//! 3. the address the package was built for (`GUICHET_SERVER_URL` at build time: store builds
//!    must set it, `build.rs` refuses a release phone build without it);
//! 4. `http://127.0.0.1:8080`, the address of `scripts/run`, for a developer's build.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The name of the settings file in the app's configuration folder.
pub const SETTINGS_FILE: &str = "settings.toml";

/// The address a developer's build falls back to: `scripts/run`'s server.
pub const DEVELOPMENT_URL: &str = "http://127.0.0.1:8080";

/// Where the address came from, shown to the citizen when the server cannot be reached so
/// that they know what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Environment,
    SettingsFile,
    Build,
    Development,
}

/// The server address and how it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerAddress {
    /// Without a trailing `/`.
    pub url: String,
    pub source: Source,
    /// The settings file the app reads (present or not), for the first-run message.
    pub settings_file: PathBuf,
    /// A settings file that could not be read: why (the address then comes from further down).
    pub settings_problem: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    server_url: Option<String>,
}

/// A non-blank value, trimmed, without a trailing `/`.
fn given(value: Option<&str>) -> Option<String> {
    value
        .map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty())
}

/// The `server_url` of a settings file: `Ok(None)` when there is no file or no such key.
fn read_settings(path: &Path) -> Result<Option<String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let settings: Settings =
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    Ok(given(settings.server_url.as_deref()))
}

/// Chooses the address from the environment's value, the settings file in `config_dir` and
/// the build's value, in that order.
pub fn resolve(
    environment: Option<&str>,
    config_dir: &Path,
    built_in: Option<&str>,
) -> ServerAddress {
    let settings_file = config_dir.join(SETTINGS_FILE);
    let (from_file, settings_problem) = match read_settings(&settings_file) {
        Ok(url) => (url, None),
        Err(problem) => (None, Some(problem)),
    };
    let (url, source) = if let Some(url) = given(environment) {
        (url, Source::Environment)
    } else if let Some(url) = from_file {
        (url, Source::SettingsFile)
    } else if let Some(url) = given(built_in) {
        (url, Source::Build)
    } else {
        (DEVELOPMENT_URL.to_owned(), Source::Development)
    };
    ServerAddress {
        url,
        source,
        settings_file,
        settings_problem,
    }
}

/// The address is an absolute http(s) URL; anything else is named in the first-run message.
pub fn problem_with(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => None,
        _ => Some(format!(
            "« {url} » n'est pas une adresse http:// ou https:// / is not an http:// or https:// address"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(settings: Option<&str>) -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        if let Some(text) = settings {
            std::fs::write(dir.path().join(SETTINGS_FILE), text).unwrap_or_else(|e| panic!("{e}"));
        }
        dir
    }

    /// A folder removed at the end of the test.
    mod tempdir {
        use std::path::{Path, PathBuf};
        pub struct Dir(PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let path = std::env::temp_dir().join(format!(
                    "guichet-app-settings-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                let _ = std::fs::remove_dir_all(&path);
                std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{e}"));
                Dir(path)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_environment_wins_over_the_file_and_the_build() {
        let dir = dir_with(Some("server_url = \"https://fichier.example\"\n"));
        let a = resolve(
            Some(" https://env.example/ "),
            dir.path(),
            Some("https://build.example"),
        );
        assert_eq!(
            (a.url.as_str(), a.source),
            ("https://env.example", Source::Environment)
        );
    }

    #[test]
    fn the_file_wins_over_the_build() {
        let dir = dir_with(Some("server_url = \"https://fichier.example/\"\n"));
        let a = resolve(Some("  "), dir.path(), Some("https://build.example"));
        assert_eq!(
            (a.url.as_str(), a.source),
            ("https://fichier.example", Source::SettingsFile)
        );
        assert_eq!(a.settings_file, dir.path().join(SETTINGS_FILE));
    }

    #[test]
    fn the_build_then_the_development_server() {
        let dir = dir_with(None);
        let a = resolve(None, dir.path(), Some("https://build.example"));
        assert_eq!(a.source, Source::Build);
        let a = resolve(None, dir.path(), None);
        assert_eq!(
            (a.url.as_str(), a.source),
            (DEVELOPMENT_URL, Source::Development)
        );
        assert_eq!(a.settings_problem, None);
    }

    #[test]
    fn a_broken_settings_file_is_named_and_skipped() {
        let dir = dir_with(Some("server = \"https://typo.example\"\n"));
        let a = resolve(None, dir.path(), Some("https://build.example"));
        assert_eq!(a.source, Source::Build);
        let problem = a.settings_problem.unwrap_or_default();
        assert!(problem.contains(SETTINGS_FILE), "{problem}");
    }

    #[test]
    fn only_http_addresses_are_accepted() {
        assert_eq!(problem_with("https://guichet.example"), None);
        assert_eq!(problem_with("http://127.0.0.1:8080"), None);
        assert!(problem_with("guichet.example").is_some());
        assert!(problem_with("http://").is_some());
        assert!(problem_with("ftp://guichet.example").is_some());
    }
}
