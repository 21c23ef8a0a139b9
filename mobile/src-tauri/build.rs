fn main() {
    // A store build must know its server: a phone has no environment to set and no settings
    // file yet, and falling back to 127.0.0.1 would ship an app that reaches nothing.
    println!("cargo:rerun-if-env-changed=GUICHET_SERVER_URL");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let phone = target_os == "android" || target_os == "ios";
    let server = std::env::var("GUICHET_SERVER_URL").unwrap_or_default();
    if phone && release && server.trim().is_empty() {
        panic!(
            "GUICHET_SERVER_URL is not set: a release build for {target_os} needs the address of \
             its server at build time (e.g. GUICHET_SERVER_URL=https://guichet.example.org)"
        );
    }
    tauri_build::build();
}
