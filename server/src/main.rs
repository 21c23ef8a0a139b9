//! The `guichet` command: serve, migrate, demo, import-zones, agent.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use guichet_server::{AppState, Config, db, demo};
use tracing_subscriber::EnvFilter;

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
    /// Load the catalogue, the zones, the demo teams and agents (idempotent).
    Demo,
    /// Import communes (or other zones) from a GeoJSON FeatureCollection of polygons.
    ImportZones { file: PathBuf },
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
    let pool = db::connect(&config.database_url, config.db_pool_size)
        .await
        .context("cannot connect to the database")?;

    match cli.command {
        Command::Migrate => {
            db::migrate(&pool).await?;
            tracing::info!("database schema is up to date");
        }
        Command::Demo => {
            let s = demo::load(&pool).await?;
            tracing::info!(
                groups = s.groups,
                demarches = s.demarches,
                teams = s.teams,
                zones = s.zones,
                agents = s.agents,
                "demo data loaded"
            );
        }
        Command::ImportZones { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut tx = pool.begin().await?;
            let n = demo::import_communes(&mut tx, &text).await?;
            tx.commit().await?;
            tracing::info!(zones = n, "zones imported");
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
            match guichet_server::agents::save(&pool, &input).await {
                Ok(id) => tracing::info!(id, email = %input.email, "agent saved"),
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
        Command::Serve => serve(config, pool).await?,
    }
    Ok(())
}

async fn serve(config: Config, pool: sqlx::PgPool) -> anyhow::Result<()> {
    db::check_postgis(&pool, false).await?;
    db::check_schema(&pool).await?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %config.public_url, "Guichet is listening");
    let state = AppState::new(config, pool);
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
