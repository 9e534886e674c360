//! One run per host at a time: a second run waits for the lock, gives up after
//! --lock-timeout naming the holder, a lock left by a killed run is recovered, and two runs
//! waiting on each other are untangled by the timeout.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn playbook(dir: &std::path::Path, name: &str, sleep: u32) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "- hosts: all\n  gather_facts: no\n  tasks:\n    - shell: echo start >> {root}/log; sleep {sleep}; echo end >> {root}/log\n",
            root = dir.display()
        ),
    )
    .unwrap();
    p
}

/// Each test locks its own inventory host (tests run in parallel).
fn start(play: &std::path::Path, host: &str, timeout: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(play)
        .args([
            "-i",
            &format!("{host},"),
            "-e",
            "ansible_connection=local",
            "--lock-timeout",
            &timeout.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for_log(dir: &std::path::Path, line: &str) {
    let t0 = Instant::now();
    while !std::fs::read_to_string(dir.join("log"))
        .unwrap_or_default()
        .contains(line)
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the first run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_second_run_gives_up_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(&playbook(dir.path(), "a.yml", 4), "lockhost1", 30);
    wait_for_log(dir.path(), "start");
    let t0 = Instant::now();
    let second = start(&playbook(dir.path(), "b.yml", 0), "lockhost1", 1)
        .wait_with_output()
        .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(4),
        "gave up after the timeout, not after the first run"
    );
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let msg = text(&second);
    assert!(
        msg.contains("lockhost1 is locked by another drover run (drover pid"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("drover pid {}", first.id())),
        "names the holder: {msg}"
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    // The runs never interleaved.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log")).unwrap(),
        "start\nend\n"
    );
}

#[test]
fn a_second_run_waits_its_turn() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(&playbook(dir.path(), "a.yml", 2), "lockhost2", 30);
    // Reap the first run as soon as it exits, as a shell would (a zombie still "runs").
    let first = std::thread::spawn(move || first.wait_with_output().unwrap());
    wait_for_log(dir.path(), "start");
    let second = start(&playbook(dir.path(), "b.yml", 0), "lockhost2", 30)
        .wait_with_output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert_eq!(first.join().unwrap().status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log")).unwrap(),
        "start\nend\nstart\nend\n"
    );
}

#[test]
fn a_lock_left_by_a_killed_run_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(&playbook(dir.path(), "a.yml", 30), "lockhost3", 30);
    wait_for_log(dir.path(), "start");
    first.kill().unwrap();
    first.wait().unwrap();
    let t0 = Instant::now();
    let second = start(&playbook(dir.path(), "b.yml", 0), "lockhost3", 10)
        .wait_with_output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "the dead run's lock was released quickly"
    );
}

/// Two runs over the same two hosts in opposite orders, one host at a time (`--forks 1`):
/// each holds its first host while it waits for its second, the one the other holds.
/// Nothing orders lock acquisition across hosts, so `--lock-timeout` breaks the wait: the
/// run with the short timeout gives up on the host it could not lock, naming the holder,
/// and its exit frees its own host for the other run, which then converges both.
#[test]
fn runs_waiting_on_each_other_are_untangled_by_the_lock_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let play = dir.path().join("p.yml");
    std::fs::write(
        &play,
        format!(
            "- hosts: all\n  gather_facts: no\n  tasks:\n    - shell: echo {{{{ run }}}} {{{{ inventory_hostname }}}} >> {root}/log; sleep 5\n",
            root = dir.path().display()
        ),
    )
    .unwrap();
    let run = |name: &str, hosts: &str, timeout: u32| {
        Command::new(env!("CARGO_BIN_EXE_drover"))
            .arg("apply")
            .arg(&play)
            .args(["-i", hosts, "-e", "ansible_connection=local", "-e"])
            .arg(format!("run={name}"))
            .args(["--forks", "1", "--lock-timeout", &timeout.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let t0 = Instant::now();
    let impatient = run("A", "crosshost1,crosshost2,", 2);
    let impatient_pid = impatient.id();
    // Reaped as soon as it exits (a zombie still holds its lock).
    let impatient = std::thread::spawn(move || impatient.wait_with_output().unwrap());
    wait_for_log(dir.path(), "A crosshost1");
    let patient = run("B", "crosshost2,crosshost1,", 60);
    let patient_pid = patient.id();
    let patient = patient.wait_with_output().unwrap();
    let impatient = impatient.join().unwrap();

    assert_eq!(impatient.status.code(), Some(2), "{}", text(&impatient));
    let msg = text(&impatient);
    assert!(
        msg.contains(&format!(
            "crosshost2 is locked by another drover run (drover pid {patient_pid}"
        )),
        "the run that gave up names the holder: {msg}"
    );
    assert_eq!(patient.status.code(), Some(0), "{}", text(&patient));
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the patient run went on when the other gave up, long before its own timeout"
    );
    // A ran on its first host only; B on both, and on crosshost1 only after A was gone.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log")).unwrap(),
        "A crosshost1\nB crosshost2\nB crosshost1\n",
        "A (pid {impatient_pid})"
    );
}
