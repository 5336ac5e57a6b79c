//! A headless Chromium for the browser tests, driven through chromedriver's WebDriver HTTP
//! API with serde_json over a plain socket: the few commands the tests use (open a URL, find
//! and click an element, move, press and drag the mouse, run a script that reads the page,
//! take a screenshot). A WebDriver crate would pull in an HTTP client stack whose features
//! change crates Burn shares, and rebuild Burn for the tests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One browser at a time: several Chromiums starting at once on two busy cores made
/// chromedriver drop a new session's request (connection reset by peer).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A browser session; the browser and chromedriver end when it is dropped, then the next
/// test's browser may start.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    /// A session of Debian's chromium, or `None` (said on stderr) where chromedriver is not
    /// installed and `CI` is unset; under `CI` its absence fails the test.
    pub fn start() -> Option<Self> {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // chromedriver refuses --port=0: take a free port, then hand it over.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = match Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(driver) => driver,
            Err(err) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: no chromedriver ({err}); install Debian's chromium and chromium-driver");
                return None;
            }
            Err(err) => panic!("CI is set but chromedriver cannot start: {err}"),
        };
        let mut browser = Self {
            driver,
            addr: format!("127.0.0.1:{port}"),
            session: String::new(),
            _turn: turn,
        };
        let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1400"],
        }}}});
        let started = Instant::now();
        while TcpStream::connect(&browser.addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "chromedriver does not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        browser.session = browser.call("POST", "/session", Some(capabilities))["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        Some(browser)
    }

    /// One WebDriver command: its `value`, or a panic with the driver's error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let value = self.try_call(method, path, body);
        assert!(value.get("error").is_none(), "{method} {path}: {value}");
        value
    }

    /// One WebDriver command: its `value`, which names an `error` if it failed.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        // Read the head, then exactly Content-Length bytes: chromedriver may keep the
        // connection open after its answer.
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut reader = std::io::BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut json = vec![0; length];
        reader.read_exact(&mut json).unwrap();
        let response = String::from_utf8_lossy(&json).to_string();
        let json = response.as_str();
        let reply: Value = serde_json::from_str(json).unwrap_or_else(|_| panic!("{method} {path}: {head}{response}"));
        reply["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Saves the page as `screenshots/NAME.png` in the tests' scratch folder, to look at.
    pub fn save_screenshot(&self, name: &str) {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        self.screenshot(&dir.join(format!("{name}.png")));
    }

    /// The rows of the runs table.
    pub fn rows(&self) -> usize {
        self.run("return document.querySelectorAll('#runs tbody tr').length")
            .as_u64()
            .unwrap() as usize
    }

    /// The text of the first element `css` matches ('' when none does).
    pub fn text(&self, css: &str) -> String {
        let script = format!("const e = document.querySelector(\"{css}\"); return e ? e.textContent : ''");
        self.run(&script).as_str().unwrap().to_string()
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.session_path("/url"), Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call("GET", &self.session_path("/url"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The value `script` (a function body) returns in the page.
    pub fn run(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Clicks the first element `css` finds, as a user's click would; found again if the
    /// page redrew it between the finding and the click.
    pub fn click(&self, css: &str) {
        for _ in 0..5 {
            let found = self.call(
                "POST",
                &self.session_path("/element"),
                Some(json!({ "using": "css selector", "value": css })),
            );
            let id = found
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let clicked = self.try_call(
                "POST",
                &self.session_path(&format!("/element/{id}/click")),
                Some(json!({})),
            );
            match clicked.get("error").and_then(Value::as_str) {
                None => return,
                Some("stale element reference") => std::thread::sleep(Duration::from_millis(100)),
                Some(_) => panic!("click {css}: {clicked}"),
            }
        }
        panic!("click {css}: the page kept redrawing it");
    }

    /// The mouse moved to `at` (the viewport's CSS pixels) and left there.
    pub fn hover(&self, at: (f64, f64)) {
        self.pointer(vec![move_to(at)]);
    }

    /// A mouse press at `from`, a move to `to` and a release there, as a user's hand would:
    /// a drag, or a click where `from` is `to`.
    pub fn drag(&self, from: (f64, f64), to: (f64, f64)) {
        let mut steps = vec![move_to(from), json!({ "type": "pointerDown", "button": 0 })];
        if from != to {
            let middle = ((from.0 + to.0) / 2.0, (from.1 + to.1) / 2.0);
            steps.extend([move_to(middle), json!({ "type": "pause", "duration": 50 }), move_to(to)]);
        }
        steps.push(json!({ "type": "pointerUp", "button": 0 }));
        self.pointer(steps);
    }

    fn pointer(&self, steps: Vec<Value>) {
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": steps,
        }] });
        self.call("POST", &self.session_path("/actions"), Some(actions));
    }

    pub fn screenshot(&self, path: &Path) {
        use base64_png::decode;
        let png = self.call("GET", &self.session_path("/screenshot"), None);
        std::fs::write(path, decode(png.as_str().unwrap())).unwrap();
    }

    /// Polls `check` until it holds, failing with `what` after `within`.
    pub fn eventually(&self, within: Duration, what: &str, mut check: impl FnMut(&Self) -> bool) {
        let started = Instant::now();
        while !check(self) {
            assert!(started.elapsed() < within, "{what}: not within {within:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A pointer move to `(x, y)` in the viewport's CSS pixels.
fn move_to((x, y): (f64, f64)) -> Value {
    json!({ "type": "pointerMove", "duration": 0, "origin": "viewport", "x": x.round() as i64, "y": y.round() as i64 })
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.call("DELETE", &self.session_path(""), None)
            }));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Base64 (RFC 4648, with padding) decoding for the screenshots WebDriver sends.
mod base64_png {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        };
        let bytes: Vec<u8> = text
            .bytes()
            .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
            .collect();
        let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
        for chunk in bytes.chunks(4) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, c)| n | (value(*c) as u32) << (18 - 6 * i));
            out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
        }
        out
    }
}
