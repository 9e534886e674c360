//! get_url, uri, wait_for and the apt source modules over SSH on a real test host,
//! against a python3 HTTP server on 127.0.0.1 (the hosts share the machine's loopback).
//! The host's files are read back with plain `ssh`, the server's request log shows what
//! was (not) fetched.

use std::time::{Duration, Instant};

mod support;
use support::{apply_on, hosts_dir, play, ssh, HttpServer};

const HOST: &str = "host1";

/// The results of the task_result events, in order.
fn results(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "task_result")
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[test]
fn get_url_downloads_verifies_and_skips_what_it_has() {
    let Some(dir) = hosts_dir() else { return };
    let server = HttpServer::start();
    let data = b"drover download test\n".repeat(100);
    std::fs::write(server.root.join("file.txt"), &data).unwrap();
    let sum = sha256_hex(&data);
    ssh(
        &dir,
        HOST,
        "rm -rf /tmp/drover-dl && mkdir -p /tmp/drover-dl/into",
    );
    let task = format!(
        "    - get_url: {{url: '{}', dest: /tmp/drover-dl/file.txt, checksum: 'sha256:{sum}', mode: '0600'}}\n",
        server.url("/files/file.txt")
    );
    // Check mode downloads nothing and writes nothing.
    let (code, changed, text) = apply_on(&dir, HOST, &play(&task), &["--check"]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "ls -A /tmp/drover-dl | grep -v into").trim(),
        ""
    );
    assert!(
        server.requests().iter().all(|r| !r.starts_with("GET")),
        "{:?}",
        server.requests()
    );

    let (code, changed, text) = apply_on(&dir, HOST, &play(&task), &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    let r = &results(&text)[0]["result"];
    assert_eq!(r["status_code"], 200, "{r}");
    assert_eq!(r["size"], data.len(), "{r}");
    assert_eq!(r["dest"], "/tmp/drover-dl/file.txt");
    assert!(
        r["checksum_src"].as_str().is_some_and(|s| s.len() == 40),
        "{r}"
    );
    assert_eq!(
        ssh(&dir, HOST, "sha256sum < /tmp/drover-dl/file.txt | cut -d' ' -f1; stat -c %a /tmp/drover-dl/file.txt"),
        format!("{sum}\n600\n")
    );
    // With a matching checksum the second run makes no request at all.
    let before = server.requests().len();
    let (code, changed, text) = apply_on(&dir, HOST, &play(&task), &[]);
    assert_eq!((code, changed), (0, 0), "{text}");
    assert_eq!(server.requests().len(), before, "{:?}", server.requests());

    // A mismatch leaves no file and names both sums.
    let bad = "0".repeat(64);
    let task_bad = format!(
        "    - get_url: {{url: '{}', dest: /tmp/drover-dl/bad.txt, checksum: 'sha256:{bad}'}}\n",
        server.url("/files/file.txt")
    );
    let (code, _, text) = apply_on(&dir, HOST, &play(&task_bad), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&bad) && text.contains(&sum),
        "both sums: {text}"
    );
    assert_eq!(
        ssh(&dir, HOST, "ls -A /tmp/drover-dl | grep -v into").trim(),
        "file.txt"
    );

    // Into a directory: the URL's file name. Without a checksum an existing file is only
    // fetched again when the server has a newer one (If-Modified-Since → 304).
    let task_dir = format!(
        "    - get_url: {{url: '{}', dest: /tmp/drover-dl/into}}\n",
        server.url("/files/file.txt")
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&task_dir), &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        results(&text)[0]["result"]["dest"],
        "/tmp/drover-dl/into/file.txt"
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&task_dir), &[]);
    assert_eq!((code, changed), (0, 0), "{text}");
    assert_eq!(results(&text)[0]["result"]["status_code"], 304, "{text}");

    // A missing URL fails with the status.
    let task_404 = format!(
        "    - get_url: {{url: '{}', dest: /tmp/drover-dl/none}}\n",
        server.url("/files/none")
    );
    let (code, _, text) = apply_on(&dir, HOST, &play(&task_404), &[]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(results(&text)[0]["result"]["status_code"], 404, "{text}");
    assert_eq!(
        ssh(&dir, HOST, "ls -A /tmp/drover-dl | grep -v into").trim(),
        "file.txt"
    );
}

#[test]
fn uri_requests_json_checks_status_and_is_changed_only_by_changed_when() {
    let Some(dir) = hosts_dir() else { return };
    let server = HttpServer::start();
    let tasks = format!(
        r#"    - uri: {{url: '{api}'}}
      register: r
    - assert:
        that:
          - r.status == 200
          - r.json.name in ['initial', 'new']
          - r.content_type == 'application/json'
          - r.changed == false
          - "'content' not in r"
    - uri:
        url: '{api}'
        method: PUT
        body_format: json
        body: {{name: new}}
      register: put
      changed_when: put.json.changed
    - uri: {{url: '{s404}', status_code: [200, 404], return_content: yes}}
      register: nf
    - assert: {{that: ["nf.status == 404", "nf.content is search('status')"]}}
    - uri: {{url: '{auth}', url_username: user, url_password: pass, force_basic_auth: yes}}
    - uri:
        url: '{echo}'
        method: POST
        body_format: form-urlencoded
        body: {{a b: 'c&d'}}
        headers: {{X-Test: yes-header}}
      register: echo
    - assert:
        that:
          - echo.json.body == 'a+b=c%26d'
          - echo.json.content_type == 'application/x-www-form-urlencoded'
          - echo.json.x_test == 'yes-header'
    - uri: {{url: '{api}'}}
      delegate_to: localhost
      register: local
    - assert: {{that: ["local.json.name == 'new'"]}}
"#,
        api = server.url("/api/item"),
        s404 = server.url("/status/404"),
        auth = server.url("/auth"),
        echo = server.url("/echo"),
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&tasks), &[]);
    assert_eq!((code, changed), (0, 1), "only the PUT that changed: {text}");
    let (code, changed, text) = apply_on(&dir, HOST, &play(&tasks), &[]);
    assert_eq!((code, changed), (0, 0), "the same PUT again: {text}");

    // An unexpected status fails, naming it.
    let fail = format!("    - uri: {{url: '{}'}}\n", server.url("/status/500"));
    let (code, _, text) = apply_on(&dir, HOST, &play(&fail), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Status code was 500 and not [200]"), "{text}");
    // Wrong credentials: 401.
    let fail = format!(
        "    - uri: {{url: '{}', url_username: user, url_password: wrong}}\n",
        server.url("/auth")
    );
    let (code, _, text) = apply_on(&dir, HOST, &play(&fail), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("Status code was 401"), "{text}");
    // Check mode: skipped, no request.
    let before = server.requests().len();
    let (code, changed, text) = apply_on(&dir, HOST, &play(&fail), &["--check"]);
    assert_eq!((code, changed), (0, 0), "{text}");
    assert_eq!(server.requests().len(), before);
}

#[test]
fn wait_for_a_port_that_opens_late_and_one_that_never_does() {
    let Some(dir) = hosts_dir() else { return };
    // Reserve a port, free it, and listen on it again after 3 s.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        // Accept for a while so the probe's connection succeeds.
        l.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            let _ = l.accept();
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let started = Instant::now();
    let (code, changed, text) = apply_on(
        &dir,
        HOST,
        &play(&format!("    - wait_for: {{port: {port}, timeout: 30}}\n")),
        &[],
    );
    assert_eq!((code, changed), (0, 0), "{text}");
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");
    let e = results(&text)[0]["result"]["elapsed"].as_i64().unwrap();
    assert!((2..=10).contains(&e), "elapsed {e}: {text}");

    // Nothing listens on port 1: a clear timeout.
    let (code, _, text) = apply_on(
        &dir,
        HOST,
        &play("    - wait_for: {host: 127.0.0.1, port: 1, timeout: 2}\n"),
        &[],
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("Timeout when waiting for 127.0.0.1:1"),
        "{text}"
    );

    // A file with a pattern, written later.
    ssh(
        &dir,
        HOST,
        "rm -f /tmp/drover-wait; (sleep 2; echo 'state: ready' > /tmp/drover-wait) >/dev/null 2>&1 &",
    );
    let (code, _, text) = apply_on(
        &dir,
        HOST,
        &play("    - wait_for: {path: /tmp/drover-wait, search_regex: 'state: re+ady', timeout: 20}\n"),
        &[],
    );
    assert_eq!(code, 0, "{text}");
    opener.join().unwrap();
}

#[test]
fn repositories_are_written_as_ansible_writes_them_and_removed() {
    let Some(dir) = hosts_dir() else { return };
    let server = HttpServer::start();
    let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZZZZZZ\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";
    std::fs::write(server.root.join("key.asc"), key).unwrap();
    ssh(
        &dir,
        HOST,
        "rm -f /etc/apt/sources.list.d/drover-example.sources /etc/apt/keyrings/drover-example.* /etc/apt/sources.list.d/drover-x.list",
    );
    let uris = server.url("/debian");
    let tasks = format!(
        r#"    - deb822_repository:
        name: Drover example
        types: [deb]
        uris: '{uris}'
        suites: [bookworm]
        components: [main, contrib]
        architectures: amd64
        signed_by: '{key_url}'
        enabled: yes
    - apt_repository:
        repo: 'deb [trusted=yes] http://127.0.0.1:1/x   ./'
        filename: drover-x
        update_cache: no
"#,
        key_url = server.url("/files/key.asc"),
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&tasks), &["--check"]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(
            &dir,
            HOST,
            "ls /etc/apt/sources.list.d/drover-* /etc/apt/keyrings/drover-* 2>/dev/null"
        )
        .trim(),
        ""
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&tasks), &[]);
    assert_eq!((code, changed), (0, 2), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /etc/apt/sources.list.d/drover-example.sources"),
        format!(
            "Architectures: amd64\nComponents: main contrib\nEnabled: yes\nX-Repolib-Name: Drover example\nSigned-By: /etc/apt/keyrings/drover-example.asc\nSuites: bookworm\nTypes: deb\nURIs: {uris}\n"
        )
    );
    assert_eq!(
        ssh(&dir, HOST, "cat /etc/apt/keyrings/drover-example.asc"),
        key
    );
    assert_eq!(
        ssh(&dir, HOST, "stat -c %a /etc/apt/sources.list.d/drover-example.sources /etc/apt/keyrings/drover-example.asc"),
        "644\n644\n"
    );
    assert_eq!(
        ssh(&dir, HOST, "cat /etc/apt/sources.list.d/drover-x.list"),
        "deb [trusted=yes] http://127.0.0.1:1/x ./\n"
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&tasks), &[]);
    assert_eq!((code, changed), (0, 0), "{text}");

    // An inline key goes into the file, as multi-line field.
    let inline = format!(
        "    - deb822_repository:\n        name: drover-inline\n        uris: http://127.0.0.1:1/x\n        suites: ./\n        signed_by: \"{}\"\n",
        key.replace('\n', "\\n")
    );
    let (code, changed, text) = apply_on(&dir, HOST, &play(&inline), &[]);
    assert_eq!((code, changed), (0, 1), "{text}");
    assert_eq!(
        ssh(&dir, HOST, "cat /etc/apt/sources.list.d/drover-inline.sources"),
        "X-Repolib-Name: drover-inline\nSigned-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n    mDMEZZZZZZ\n    =abcd\n    -----END PGP PUBLIC KEY BLOCK-----\nSuites: ./\nTypes: deb\nURIs: http://127.0.0.1:1/x\n"
    );

    let absent = "    - deb822_repository: {name: Drover example, state: absent}\n    - deb822_repository: {name: drover-inline, state: absent}\n    - apt_repository: {repo: 'deb [trusted=yes] http://127.0.0.1:1/x ./', filename: drover-x, state: absent, update_cache: no}\n";
    let (code, changed, text) = apply_on(&dir, HOST, &play(absent), &[]);
    assert_eq!((code, changed), (0, 3), "{text}");
    assert_eq!(
        ssh(
            &dir,
            HOST,
            "ls /etc/apt/sources.list.d/drover-* /etc/apt/keyrings/drover-* 2>/dev/null"
        )
        .trim(),
        ""
    );
    let (_, changed, _) = apply_on(&dir, HOST, &play(absent), &[]);
    assert_eq!(changed, 0);
}
