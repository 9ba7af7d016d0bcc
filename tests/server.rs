//! `racelint server` spoken to as an editor does, over stdio: initialize, open a file,
//! receive its diagnostics, hover over one, ask for a code action, edit it without
//! saving and back, save another file that removes the
//! race's other side and see the opened file's diagnostics cleared, shut down.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_racelint"))
            .arg("server")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("racelint server starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).expect("a whole message");
                let message = serde_json::from_slice(&body).expect("JSON");
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    /// The next message `wanted` accepts, skipping others.
    fn wait_for(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no {what} from the server"));
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics_for(&self, uri: &str) -> Vec<Value> {
        let message = self.wait_for("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"]
            .as_array()
            .expect("a list")
            .clone()
    }
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn the_server_publishes_fixes_and_clears_diagnostics_across_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    let a = root.join("a.py");
    let b = root.join("b.py");
    std::fs::write(
        &a,
        "JOBS: dict[str, str] = {}\n\n\nasync def submit(job: str) -> None:\n    JOBS[job] = \"queued\"\n",
    )
    .expect("write a.py");
    std::fs::write(
        &b,
        "import asyncio\n\nimport a\n\n\ndef count() -> int:\n    return len(a.JOBS)\n\n\nasync def report() -> int:\n    return await asyncio.to_thread(count)\n",
    )
    .expect("write b.py");
    // The server reads the configuration the command line reads: RL101 is opt-in.
    std::fs::write(root.join("racelint.toml"), "select = [\"ALL\"]\n").expect("write config");
    let (a_uri, b_uri) = (file_uri(&a), file_uri(&b));

    let mut client = Client::start(&root);
    client.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": file_uri(&root), "capabilities": {}}}));
    let initialized = client.wait_for("initialize result", |m| m["id"] == 1);
    assert_eq!(
        initialized["result"]["capabilities"]["codeActionProvider"],
        true
    );
    client.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": b_uri, "languageId": "python", "version": 1,
                         "text": std::fs::read_to_string(&b).expect("read")}}}),
    );

    // The race's worker-side read is in b.py, its write on the loop in a.py.
    let diagnostics = client.diagnostics_for(&b_uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["code"], "RL101");
    assert_eq!(diagnostic["source"], "racelint");
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(
        diagnostic["range"]["start"],
        json!({"line": 6, "character": 15})
    );
    let related = diagnostic["relatedInformation"]
        .as_array()
        .expect("related places");
    assert!(
        related.iter().any(|r| r["location"]["uri"] == a_uri),
        "{related:#?}"
    );

    // Hovering over it shows the rule's documentation.
    client.send(
        json!({"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": b_uri}, "position": {"line": 6, "character": 17}}}),
    );
    let hover = client.wait_for("hover", |m| m["id"] == 4);
    let text = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.starts_with("# RL101 (loop-thread-shared-state)") && text.contains("## What it does"),
        "{hover:#?}"
    );

    // A code action suppresses it, on the line above, indented as the line is.
    client.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction",
        "params": {"textDocument": {"uri": b_uri}, "range": diagnostic["range"],
                   "context": {"diagnostics": [diagnostic]}}}),
    );
    let actions = client.wait_for("code actions", |m| m["id"] == 2);
    let edit = &actions["result"][0]["edit"]["changes"][&b_uri][0];
    assert_eq!(
        edit["newText"], "    # racelint: ignore[RL101] reason\n",
        "{actions:#?}"
    );
    assert_eq!(edit["range"]["start"], json!({"line": 6, "character": 0}));

    // Typing in b.py, not saved: the buffer is analysed, not the file on disk.
    let unsaved = std::fs::read_to_string(&b)
        .expect("read")
        .replace("len(a.JOBS)", "0");
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": b_uri, "version": 2},
        "contentChanges": [{"text": unsaved}]}}),
    );
    assert_eq!(client.diagnostics_for(&b_uri), Vec::<Value>::new());
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": b_uri, "version": 3},
        "contentChanges": [{"text": std::fs::read_to_string(&b).expect("read")}]}}),
    );
    assert_eq!(client.diagnostics_for(&b_uri).len(), 1);

    // a.py stops writing JOBS on the loop: b.py's diagnostic goes with it.
    std::fs::write(
        &a,
        "JOBS: dict[str, str] = {}\n\n\nasync def submit(job: str) -> None:\n    print(job)\n",
    )
    .expect("rewrite a.py");
    client.send(json!({"jsonrpc": "2.0", "method": "textDocument/didSave",
        "params": {"textDocument": {"uri": a_uri}}}));
    assert_eq!(client.diagnostics_for(&b_uri), Vec::<Value>::new());

    client.send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}));
    client.wait_for("shutdown result", |m| m["id"] == 3);
    client.send(json!({"jsonrpc": "2.0", "method": "exit"}));
    let status = client.child.wait().expect("the server exits");
    assert!(status.success(), "{status}");
}

#[test]
fn a_fix_is_offered_as_a_code_action_before_the_suppression() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    let cache = root.join("cache.py");
    std::fs::write(
        &cache,
        "import asyncio\n\n\nclass Cache:\n    def __init__(self) -> None:\n        self.rows: dict[str, int] = {}\n\n    def fill(self) -> None:\n        self.rows[\"a\"] = 1\n\n    async def refresh(self) -> None:\n        await asyncio.to_thread(self.fill)\n\n    async def size(self) -> int:\n        return len(self.rows)\n\n\nCACHE = Cache()\n",
    )
    .expect("write cache.py");
    std::fs::write(root.join("racelint.toml"), "select = [\"RL101\"]\n").expect("write config");
    let uri = file_uri(&cache);
    let mut client = Client::start(&root);
    client.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": file_uri(&root), "capabilities": {}}}));
    client.wait_for("initialize result", |m| m["id"] == 1);
    client.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    client.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1,
                         "text": std::fs::read_to_string(&cache).expect("read")}}}),
    );
    let diagnostics = client.diagnostics_for(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    client.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction",
        "params": {"textDocument": {"uri": uri}, "range": diagnostics[0]["range"],
                   "context": {"diagnostics": [diagnostics[0]]}}}),
    );
    let actions = client.wait_for("code actions", |m| m["id"] == 2);
    let fix = &actions["result"][0];
    assert!(
        fix["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Fix RL101 (unsafe")),
        "{actions:#?}"
    );
    assert_eq!(fix["isPreferred"], false);
    let edits = fix["edit"]["changes"][&uri].as_array().expect("edits");
    // `import threading`, the lock in `__init__`, and the two `with` blocks.
    assert_eq!(edits.len(), 4, "{edits:#?}");
    assert_eq!(edits[0]["newText"], "import threading\n");
    assert_eq!(
        edits[1]["newText"],
        "        self._rows_lock = threading.RLock()\n"
    );
    assert_eq!(
        edits[1]["range"]["start"],
        json!({"line": 5, "character": 0})
    );
    assert!(actions["result"][1]["title"]
        .as_str()
        .is_some_and(|t| t.starts_with("Suppress RL101")));
    client.send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}));
    client.wait_for("shutdown result", |m| m["id"] == 3);
    client.send(json!({"jsonrpc": "2.0", "method": "exit"}));
    assert!(client.child.wait().expect("the server exits").success());
}
