#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Several instances, one truth: three `guichet serve` processes share one database and send
//! 1,000 e-mail jobs while they are killed (`kill -9`) and restarted in turn. No job is lost;
//! a job sent twice can only be one in flight at a kill, and its copies carry the same
//! Message-ID, so that mail systems drop the second.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use guichet_tests::smtp::SmtpServer;
use guichet_tests::{ServerProcess, TestDb};

const JOBS: i64 = 1000;

fn message_id(data: &str) -> String {
    data.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("a Message-ID")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_e_mails_survive_instances_killed_and_restarted() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let env = [
        ("GUICHET_SMTP_URL", smtp.url()),
        ("GUICHET_OUTBOX_POLL_MS", "50".to_owned()),
        // A dead instance's claimed jobs go to the others after this.
        ("GUICHET_OUTBOX_LOCK_SECS", "3".to_owned()),
    ];
    let dirs: Vec<_> = (0..3)
        .map(|i| std::env::temp_dir().join(format!("guichet-drill-{i}-{}", uuid::Uuid::new_v4())))
        .collect();
    let mut instances = Vec::new();
    for dir in &dirs {
        instances.push(ServerProcess::start_in(&db, dir, &env).await);
    }
    sqlx::query(
        "INSERT INTO outbox_jobs (kind, payload)
         SELECT 'email.send', json_build_object(
                  'to', format('habitant%s@example.org', g),
                  'subject', format('Votre demande n° %s', g),
                  'body', 'Bonjour,')
           FROM generate_series(1, $1) g",
    )
    .bind(JOBS)
    .execute(&db.pool)
    .await
    .unwrap();
    let job_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM outbox_jobs WHERE kind = 'email.send'")
            .fetch_all(&db.pool)
            .await
            .unwrap();

    let pending = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send' AND done_at IS NULL",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    // Kill one instance after the other while the jobs go out, and start it again.
    let mut kills = 0;
    let started = Instant::now();
    while pending().await > JOBS / 4 && kills < 6 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let i = kills % 3;
        instances[i].kill_hard();
        kills += 1;
        instances[i] = ServerProcess::start_in(&db, &dirs[i], &env).await;
    }
    assert!(
        kills >= 2,
        "the jobs went out before two kills: nothing was tested"
    );
    while pending().await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} jobs never went out",
            pending().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut copies: HashMap<String, usize> = HashMap::new();
    for mail in smtp.messages() {
        *copies.entry(message_id(&mail.data)).or_default() += 1;
    }
    for id in &job_ids {
        let expected = copies
            .keys()
            .any(|m| m.starts_with(&format!("<outbox-{id}@")));
        assert!(expected, "job {id} was never sent");
    }
    assert_eq!(copies.len(), JOBS as usize, "one Message-ID per job");
    let sent_twice: usize = copies.values().map(|n| n - 1).sum();
    assert!(
        sent_twice <= kills,
        "{sent_twice} copies for {kills} kills: only a job in flight at a kill may go twice"
    );
    for instance in &mut instances {
        assert!(instance.is_running());
    }
    eprintln!(
        "outbox drill: {JOBS} jobs, {kills} kills, {sent_twice} sent twice, {:?}",
        started.elapsed()
    );
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
