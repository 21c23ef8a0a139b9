//! The `guichet` command: serve, migrate, setup, demo, import-zones, import-addresses, agent,
//! api-key, backup, restore, migrate-store.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use guichet_server::config::Environment;
use guichet_server::setup::{self, Input, Sources};
use guichet_server::{AppState, Config, addresses, db, demo};
use tracing_subscriber::EnvFilter;

/// glibc's allocator keeps what many threads free in per-thread arenas: the photo pipeline's
/// megabyte buffers, freed on the blocking pool's threads, made a server's memory creep up for
/// as long as photos kept coming. mimalloc gives freed pages back (docs/benchmarks.md, "From
/// the citizen's 201 to the agents' screen").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "guichet", version, about = "A city's digital counter")]
struct Cli {
    /// TOML configuration file; environment variables override its values.
    #[arg(long, short, env = "GUICHET_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Load the catalogue, the teams and the zones, and create no account (idempotent). Adds
    /// what is missing and never overwrites a démarche an admin has edited.
    Setup {
        /// Catalogue file (default: the shipped catalogue).
        #[arg(long)]
        catalogue: Option<PathBuf>,
        /// Teams file (default: the shipped example teams).
        #[arg(long)]
        teams: Option<PathBuf>,
        /// Zones, a GeoJSON FeatureCollection of polygons (default: the shipped communes).
        #[arg(long)]
        zones: Option<PathBuf>,
    },
    /// `setup` with the shipped files, plus demo agents who share a published password.
    /// Never for production: `serve` refuses to start there while they keep that password.
    Demo,
    /// Import communes (or other zones) from a GeoJSON FeatureCollection of polygons.
    ImportZones { file: PathBuf },
    /// Import addresses from a CSV of the Base Adresse Nationale (adresses-35.csv, or the
    /// .csv.gz as downloaded). Idempotent: addresses are replaced by their BAN id, and those of
    /// the file's communes that the file no longer has are removed.
    ImportAddresses { file: PathBuf },
    /// Create or update an agent account (the first admin, typically). The password is read
    /// from GUICHET_AGENT_PASSWORD so that it never appears in the process list.
    Agent {
        email: String,
        #[arg(long)]
        name: String,
        /// agent, field, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Team code; repeat for several teams.
        #[arg(long = "team")]
        teams: Vec<String>,
    },
    /// Open311 API keys of integrators: create (prints the key once), list, revoke.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Back up the database (a consistent pg_dump) and every object of the store into DIR, a
    /// new or empty directory. Safe while the service runs.
    Backup { dir: PathBuf },
    /// Restore a backup made by `guichet backup` into an empty database and the store.
    Restore { dir: PathBuf },
    /// Copy every object of one store into another (e.g. from local disk to a bucket before
    /// switching GUICHET_STORE). Checks each object against its key; objects already there
    /// with the same size are skipped, so it can be run again. Safe while the service runs.
    MigrateStore {
        /// `configured`, `local:DIR` (a data folder, as GUICHET_DATA_DIR) or `s3://BUCKET`
        /// (reached with the GUICHET_S3_* settings).
        #[arg(long)]
        from: String,
        /// Where to copy to, in the same form.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key; the key alone is printed on the last line, and is never shown again.
    Create {
        /// Who the key is for (letters, digits, `.`, `_`, `-`), recorded with each filing.
        #[arg(long)]
        name: String,
    },
    /// List the keys (names and dates, never the keys).
    List,
    /// Revoke the key of this name: its filings are refused from now on.
    Revoke { name: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    // The one command that needs no database.
    if let Command::MigrateStore { from, to } = &cli.command {
        return migrate_store(&config, from, to).await;
    }
    let pool = db::connect(&config.database_url, config.db_pool_size)
        .await
        .context("cannot connect to the database")?;

    match cli.command {
        Command::Migrate => {
            db::migrate(&pool).await?;
            tracing::info!("database schema is up to date");
        }
        Command::Setup {
            catalogue,
            teams,
            zones,
        } => {
            let shipped = Sources::shipped();
            let catalogue = read_optional(catalogue.as_deref())?;
            let teams = read_optional(teams.as_deref())?;
            let zones = read_optional(zones.as_deref())?;
            let sources = Sources {
                catalogue: catalogue.as_ref().map_or(shipped.catalogue, File::input),
                teams: teams.as_ref().map_or(shipped.teams, File::input),
                zones: zones.as_ref().map_or(shipped.zones, File::input),
            };
            let s = setup::run(&pool, &sources).await?;
            log_setup(&s, "set up");
        }
        Command::Demo => {
            if config.environment == Environment::Production {
                anyhow::bail!(
                    "`guichet demo` creates accounts with a published password, which \
                     GUICHET_ENV=production forbids: use `guichet setup`, then \
                     `guichet agent EMAIL --name NAME --role admin` for the first admin"
                );
            }
            let s = demo::load(&pool).await?;
            log_setup(&s.setup, "demo data loaded");
            log_addresses(
                &s.addresses,
                "demo addresses loaded (assets/addresses-sample.csv)",
            );
            tracing::info!(
                created = s.agents_created,
                kept = s.agents_kept,
                "demo agents: created when missing, with the password of assets/demo-agents.json; \
                 existing ones keep theirs"
            );
        }
        Command::ImportZones { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let origin = file.display().to_string();
            let mut tx = pool.begin().await?;
            let n = setup::import_communes(
                &mut tx,
                Input {
                    origin: &origin,
                    text: &text,
                },
            )
            .await?;
            tx.commit().await?;
            tracing::info!(zones = n, "zones imported");
        }
        Command::ImportAddresses { file } => {
            let reader = addresses::open(&file)?;
            let origin = file.display().to_string();
            let mut tx = pool.begin().await?;
            let s = addresses::import(&mut tx, &origin, reader).await?;
            tx.commit().await?;
            log_addresses(&s, "addresses imported");
        }
        Command::Agent {
            email,
            name,
            role,
            teams,
        } => {
            let password = std::env::var("GUICHET_AGENT_PASSWORD")
                .context("set GUICHET_AGENT_PASSWORD to the new agent's password")?;
            let input = guichet_server::agents::AgentInput {
                email,
                name,
                role,
                teams,
                password,
            };
            match guichet_server::agents::save(&pool, &guichet_server::auth::Hasher::new(1), &input)
                .await
            {
                Ok(id) => tracing::info!(id, role = %input.role, "agent saved"),
                Err(guichet_server::agents::SaveError::Invalid(errors)) => {
                    let text: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    anyhow::bail!("agent not saved: {}", text.join("; "));
                }
                Err(guichet_server::agents::SaveError::Db(e)) => return Err(e.into()),
            }
        }
        Command::ApiKey(command) => api_key(&pool, command).await?,
        Command::Backup { dir } => {
            let store = AppState::store_of(&config)?;
            let s =
                guichet_server::backup::backup(&pool, &config.database_url, store, &dir).await?;
            tracing::info!(objects = s.objects, bytes = s.bytes, dir = %dir.display(), "backup taken");
        }
        Command::Restore { dir } => {
            let store = AppState::store_of(&config)?;
            let s =
                guichet_server::backup::restore(&pool, &config.database_url, store, &dir).await?;
            tracing::info!(objects = s.objects, bytes = s.bytes, "backup restored");
        }
        Command::Serve => serve(config, pool).await?,
        // Run above, before any database connection.
        Command::MigrateStore { .. } => {}
    }
    Ok(())
}

// The counts are this command's output, for the operator or a script to read.
#[allow(clippy::print_stdout)]
async fn migrate_store(config: &Config, from: &str, to: &str) -> anyhow::Result<()> {
    use guichet_server::photos::{StoreLocation, copy_all, store};
    let from = StoreLocation::parse(from, config).context("--from")?;
    let to = StoreLocation::parse(to, config).context("--to")?;
    if from == to {
        anyhow::bail!("--from and --to name the same store ({from})");
    }
    let (source, target) = (store::open(&from)?, store::open(&to)?);
    let s = copy_all(source.as_ref(), target.as_ref())
        .await
        .with_context(|| format!("copying {from} into {to}"))?;
    println!(
        "{} objects copied ({} bytes), {} already there, from {from} into {to}",
        s.copied, s.bytes, s.skipped
    );
    Ok(())
}

// The key and the list are this command's output, for the operator or a script to read.
#[allow(clippy::print_stdout)]
async fn api_key(pool: &sqlx::PgPool, command: ApiKeyCommand) -> anyhow::Result<()> {
    use guichet_server::db::open311 as keys;
    match command {
        ApiKeyCommand::Create { name } => {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !valid {
                anyhow::bail!(
                    "a key's name has 1 to 64 letters, digits, `.`, `_` or `-`, and starts \
                     with a letter or digit"
                );
            }
            let (key, digest) = guichet_server::auth::new_token();
            if !keys::create_key(pool, &name, &digest).await? {
                anyhow::bail!(
                    "a key named {name:?} exists already; revoke it or pick another name"
                );
            }
            println!("API key {name:?} created; it is shown once, keep it now:");
            println!("{key}");
        }
        ApiKeyCommand::List => {
            let format = time::format_description::well_known::Rfc3339;
            let when = |t: Option<time::OffsetDateTime>| {
                t.and_then(|t| t.format(&format).ok())
                    .unwrap_or_else(|| "-".to_owned())
            };
            println!("name\tcreated\tlast used\trevoked");
            for k in keys::list_keys(pool).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.name,
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.revoked_at)
                );
            }
        }
        ApiKeyCommand::Revoke { name } => {
            if !keys::revoke_key(pool, &name).await? {
                anyhow::bail!("no active key is named {name:?}");
            }
            println!("API key {name:?} revoked");
        }
    }
    Ok(())
}

/// A file given on the command line: its name (for messages) and its text.
struct File {
    origin: String,
    text: String,
}

impl File {
    fn input(&self) -> Input<'_> {
        Input {
            origin: &self.origin,
            text: &self.text,
        }
    }
}

fn read_optional(path: Option<&std::path::Path>) -> anyhow::Result<Option<File>> {
    path.map(|p| {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        Ok(File {
            origin: p.display().to_string(),
            text,
        })
    })
    .transpose()
}

fn log_setup(s: &setup::SetupSummary, what: &str) {
    tracing::info!(
        groups = s.groups,
        teams = s.teams,
        zones = s.zones,
        demarches = s.demarches(),
        added = s.added,
        updated = s.updated,
        unchanged = s.unchanged,
        kept = s.kept.len(),
        "{what}"
    );
}

fn log_addresses(s: &addresses::ImportSummary, what: &str) {
    tracing::info!(
        lines = s.lines,
        inserted = s.inserted,
        updated = s.updated,
        unchanged = s.unchanged,
        removed = s.removed,
        communes = s.communes,
        streets = s.streets,
        "{what}"
    );
}

async fn serve(config: Config, pool: sqlx::PgPool) -> anyhow::Result<()> {
    db::check_postgis(&pool, false).await?;
    db::check_schema(&pool).await?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let listen = config.listen;
    let environment = config.environment;
    if environment == Environment::Production && config.notify.follow_key.is_none() {
        anyhow::bail!(
            "refusing to start with GUICHET_ENV=production without GUICHET_SECRET_KEY: set it to \
             a random value of at least 32 characters (e.g. `openssl rand -hex 32`), the same \
             for every instance, and keep it out of the database"
        );
    }
    let state = AppState::new(config, pool).context("cannot open the store")?;
    // Wrong keys or an unreachable service show at start, not at the first photo. The service
    // still starts: everything but photos and files works without the store.
    let probe = format!("{}.webp", "0".repeat(64));
    if let Err(e) = state.photos.size(&probe).await {
        tracing::warn!(error = %e, "the store cannot be reached: photos and files answer 503 until it can");
    }
    let demo_accounts = state
        .demo_passwords
        .accounts(&state.db)
        .await
        .context("cannot check the demo accounts")?;
    if !demo_accounts.is_empty() {
        let accounts = demo_accounts.join(", ");
        if environment == Environment::Production {
            anyhow::bail!(
                "refusing to start with GUICHET_ENV=production: these accounts still have the \
                 published demo password: {accounts}. Give each a password of its own with \
                 `guichet agent EMAIL --name NAME --role ROLE [--team CODE]...` and \
                 GUICHET_AGENT_PASSWORD"
            );
        }
        tracing::warn!(
            %accounts,
            "these accounts still have the published demo password: fine for a demo, \
             refused with GUICHET_ENV=production"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %state.config.public_url, "Guichet is listening");
    guichet_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
