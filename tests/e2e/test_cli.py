"""The `tidings` command as a user runs it: a subprocess, a temporary SQLite file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidings.api.app import create_app
from tidings.storage.engine import create_engine

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).parents[2] / "examples" / "workflows"


def tidings(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_validate_accepts_the_examples(tmp_path: Path) -> None:
    result = tidings("workflows", "validate", str(EXAMPLES), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": ok") == 3


def test_validate_names_every_mistake_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text(
        "contact: {cart_value: number}\nevents: {cart_abandoned: [value]}\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\n"
        "name: Bad\n"
        "trigger: {event: cart_abandoned}\n"
        "templates: {t: {subject: hi, html: '{{ contact.cart_vlue }}'}}\n"
        "steps:\n"
        "  - {id: a, type: wait, for: 3 days}\n"
        "  - {id: b, type: branch, branches: [{when: 'contact.cart_vlaue > 1', next: c}]}\n"
        "  - {id: c, type: send, template: tt}\n"
    )
    result = tidings("workflows", "validate", str(bad), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stdout == ""  # problems are errors: all of them on stderr
    out = result.stderr
    assert f"{bad}: steps[0].for: '3 days' is not a duration" in out
    assert (
        "steps[1].branches[0].when: unknown field contact.cart_vlaue (did you mean cart_value?)"
        in out
    )
    assert "steps[2].template: unknown template 'tt' (did you mean t?)" in out
    assert "templates.t.html: unknown field contact.cart_vlue (did you mean cart_value?)" in out


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nsteps: [\n  {id: a\n")
    result = tidings("workflows", "validate", str(broken), cwd=tmp_path)
    assert result.returncode == 3
    assert re.search(r"broken.yaml: line \d+, column \d+: invalid YAML", result.stderr)


def test_demo_then_ask_why(tmp_path: Path) -> None:
    result = tidings("demo", "--contacts", "400", "--days", "8", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for key in ("cart_recovery", "reengagement", "welcome"):
        assert re.search(rf"│ {key} v1 +│ +[1-9][\d,]* │", out), f"{key} entered nobody:\n{out}"
    assert "step by step" in out
    assert (tmp_path / "tidings-demo.db").exists()
    assert "log in as demo@tidings.local with password tidings-demo" in " ".join(out.split())
    assert "tidings serve --database sqlite:///tidings-demo.db" in out
    demo_db = create_engine(f"sqlite:///{tmp_path / 'tidings-demo.db'}")
    with TestClient(create_app(demo_db)) as console:
        login = {"email": "demo@tidings.local", "password": "tidings-demo"}
        logged_in = console.post("/api/session", json=login)
        assert logged_in.status_code == 200, logged_in.text
        assert logged_in.json()["role"] == "owner"
    demo_db.dispose()
    asked = re.search(r"tidings contacts why (cus_\d+) --database (\S+)", out)
    assert asked is not None, out
    story = tidings("contacts", "why", asked.group(1), "--database", asked.group(2), cwd=tmp_path)
    assert story.returncode == 0, story.stderr
    assert (
        "cart_recovery" in story.stdout
        and "enrolled" in story.stdout
        and "converted" in story.stdout
    )

    database = ("--database", asked.group(2))
    buyers = "total event.revenue of order_completed > 0"
    previewed = tidings("segments", "preview", buyers, *database, cwd=tmp_path)
    assert previewed.returncode == 0, previewed.stderr
    size = int(previewed.stdout.split()[0].replace(",", ""))
    assert 0 < size < 400
    made = tidings("segments", "define", "buyers", "-c", buyers, *database, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert f"segment buyers created: {size:,} contacts" in made.stdout
    listed = tidings("segments", "list", *database, cwd=tmp_path)
    assert "buyers" in listed.stdout and f"{size:,}" in listed.stdout
    exported = tidings("segments", "export", "buyers", "-o", "buyers.csv", *database, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "buyers.csv").read_text().splitlines()) == size + 1
    broken = tidings(
        "segments", "define", "bad", "-c", "performed x within", *database, cwd=tmp_path
    )
    assert broken.returncode == 3
    assert "condition: expected a duration" in broken.stderr

    # The demo ended by writing its report; `tidings report` rebuilds it, now with the
    # segment just made, in the terminal and as a page.
    written = re.search(r"The full report, with charts: (\S+)", out)
    assert written is not None and Path(written.group(1)) == tmp_path / "tidings-demo-report.html"
    page = Path(written.group(1)).read_text()
    for section in ("Workflows", "Experiments", "Holdout lift", "Attribution", "Audit"):
        assert f">{section}</h2>" in page
    assert "<svg" in page and "<script" not in page and "http://" not in page
    shown = tidings("report", *database, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Attribution: revenue credited" in shown.stdout and "Audit" in shown.stdout
    # The demo's data lives in its virtual time: the wall clock does not age it by months.
    assert "running unchanged" not in shown.stdout
    assert re.search(r"│ buyers +│ +" + f"{size:,}" + r" +│", shown.stdout), shown.stdout
    html = tidings(
        "report", "--html", "out/report.html", "--since", "2026-03-01", *database, cwd=tmp_path
    )
    assert html.returncode == 0, html.stderr
    assert "buyers" in (tmp_path / "out" / "report.html").read_text()
    wrong = tidings("report", "--since", "March", *database, cwd=tmp_path)
    assert wrong.returncode == 3
    assert "--since: 'March' is not a date; write it as YYYY-MM-DD" in wrong.stderr


def test_unknown_contact_is_a_clear_error(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/t.db"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    result = tidings("contacts", "why", "nobody", "--database", database, cwd=tmp_path)
    assert result.returncode == 1
    assert "no contact 'nobody'" in result.stderr


def test_deploy_list_pause_and_a_new_version(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/t.db"
    assert tidings("init", "--database", db, cwd=tmp_path).returncode == 0
    source = (EXAMPLES / "welcome.yaml").read_text()
    mine = tmp_path / "welcome.yaml"
    mine.write_text(source)
    assert (
        "welcome: deployed, version 1"
        in tidings("workflows", "deploy", str(mine), "--database", db, cwd=tmp_path).stdout
    )
    assert (
        "welcome: unchanged, version 1"
        in tidings("workflows", "deploy", str(mine), "--database", db, cwd=tmp_path).stdout
    )
    mine.write_text(source.replace("within: 14d", "within: 10d"))
    assert (
        "welcome: deployed, version 2"
        in tidings("workflows", "deploy", str(mine), "--database", db, cwd=tmp_path).stdout
    )
    assert (
        "paused" in tidings("workflows", "pause", "welcome", "--database", db, cwd=tmp_path).stdout
    )
    listed = tidings("workflows", "list", "--database", db, cwd=tmp_path).stdout
    assert re.search(r"welcome\s+v2\s+paused", listed), listed


def test_simulate_a_workflow_before_launch(tmp_path: Path) -> None:
    result = tidings(
        "workflows",
        "simulate",
        str(EXAMPLES / "cart_recovery.yaml"),
        "--contacts",
        "300",
        "--days",
        "5",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "cart_recovery v1" in result.stdout and "reminder" in result.stdout
    assert "welcome" not in result.stdout  # only the workflow under test runs


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tidings", "workflows", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TIDINGS_SCHEDULER_BATCH": "many"},
        check=False,
    )
    assert result.returncode == 3
    assert "TIDINGS_SCHEDULER_BATCH has value 'many'" in result.stderr


def test_demo_delivers_through_a_real_smtp_server(tmp_path: Path) -> None:
    import sqlite3

    from tests.servers import smtp_server

    with smtp_server() as (sink, port):
        result = tidings(
            "demo",
            "--contacts",
            "300",
            "--days",
            "6",
            "--smtp",
            f"smtp://127.0.0.1:{port}",
            "--database",
            f"sqlite:///{tmp_path}/smtp.db",
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "smtp.db") as db:
        sent = db.execute("SELECT count(*) FROM messages WHERE status = 'sent'").fetchone()[0]
        recipients = {
            r[0] for r in db.execute("SELECT recipient FROM messages WHERE status = 'sent'")
        }
    assert sent > 50
    assert f"{sent:,} messages to smtp://127.0.0.1:{port}" in result.stdout
    # Every message the store says it sent arrived, as a real email.
    assert len(sink.received) == sent
    assert {r.rcpt_to[0] for r in sink.received} == recipients
    for received in sink.received:
        message = received.message
        assert message["From"] == "Fernhill <hello@fernhill.example>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http://localhost:8000/u/")
        assert message.get_body(preferencelist=("plain",)) is not None
        html = message.get_body(preferencelist=("html",))
        assert html is not None and "12 Orchard Lane" in html.get_content()


def test_bounces_read_applies_a_saved_report(tmp_path: Path) -> None:
    from tests.integration.delivery.test_bounces import dsn

    database = f"sqlite:///{tmp_path}/b.db"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    report = tmp_path / "bounce.eml"
    report.write_bytes(dsn("gone@example.com", "5.1.1", "failed", "<x@shop.example>"))
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"Subject: hello\r\n\r\nnot a report\r\n")
    result = tidings(
        "bounces", "read", str(report), str(junk), "--database", database, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "hard for gone@example.com (0 contacts): 5.1.1" in result.stdout
    assert "junk.eml: not a bounce or complaint report" in result.stderr
    assert "1 of 2 messages were not reports" in result.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "b.db") as db:
        reasons = [r[0] for r in db.execute("SELECT reason FROM suppressions")]
    assert reasons == ["hard_bounce"]  # a code: the report's text can name the person


def test_contacts_import_with_a_dry_run_first(tmp_path: Path) -> None:
    database = ("--database", f"sqlite:///{tmp_path}/t.db")
    assert tidings("init", *database, cwd=tmp_path).returncode == 0
    (tmp_path / "people.csv").write_text(
        "Email,Mobile,Plan\nAnn@Example.com,(415) 253-0123,pro\nbob@,,free\nann@example.com,,\n",
        encoding="utf-8",
    )
    dry = tidings(
        "contacts", "import", "people.csv", "--region", "us", "--dry-run", *database, cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert "3 rows: dry run, nothing written; would be 1 created" in dry.stdout
    assert "row 3: column 'Email': 'bob@' is not an email address" in dry.stdout
    assert "row 4: the same person as row 2, merged" in dry.stdout
    done = tidings("contacts", "import", "people.csv", "--region", "US", *database, cwd=tmp_path)
    assert "3 rows: 1 created" in done.stdout
    story = tidings("contacts", "why", "ann@example.com", *database, cwd=tmp_path)
    assert story.returncode == 0, story.stderr
    (tmp_path / "latin.csv").write_bytes("email,name\nzoe@example.com,Zo\xeb\n".encode("cp1252"))
    bad = tidings("contacts", "import", "latin.csv", *database, cwd=tmp_path)
    assert bad.returncode == 3
    assert "is not utf-8-sig text" in bad.stderr and "--encoding cp1252" in bad.stderr
    fixed = tidings(
        "contacts", "import", "latin.csv", "--encoding", "cp1252", *database, cwd=tmp_path
    )
    assert "1 rows: 1 created" in fixed.stdout


def test_version_prints_the_version(tmp_path: Path) -> None:
    from tidings import __version__

    result = tidings("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"tidings {__version__}\n"


def test_a_mistyped_workspace_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    import sqlite3

    database = f"sqlite:///{tmp_path}/t.db"
    made = tidings("init", "--workspace", "acme", "--database", database, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    listed = tidings(
        "--workspace", "acme", "workflows", "list", "--database", database, cwd=tmp_path
    )
    assert listed.returncode == 0, listed.stderr
    # A typo, in the option or in the variable, stops the command and names the fix
    typo = tidings(
        "--workspace", "acmee", "workflows", "list", "--database", database, cwd=tmp_path
    )
    from_env = subprocess.run(
        [sys.executable, "-m", "tidings", "workflows", "list", "--database", database],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TIDINGS_WORKSPACE": "acmee"},
        check=False,
    )
    for result in (typo, from_env):
        assert result.returncode == 1
        assert result.stdout == ""
        assert (
            "workspace 'acmee' does not exist; create it with `tidings init --workspace acmee`, "
            "or pick one of: acme"
        ) in result.stderr
    with sqlite3.connect(tmp_path / "t.db") as db:
        assert [r[0] for r in db.execute("SELECT key FROM workspaces")] == ["acme"]


def test_an_unexpected_error_is_one_line_and_its_traceback_needs_verbose(tmp_path: Path) -> None:
    # A file that is not a SQLite database: the driver's error is no error Tidings foresaw.
    (tmp_path / "t.db").write_bytes(b"not a database, just some bytes " * 100)
    database = ("--database", f"sqlite:///{tmp_path}/t.db")
    quiet = tidings("workflows", "list", *database, cwd=tmp_path)
    assert quiet.returncode == 1
    assert quiet.stdout == ""
    assert quiet.stderr.startswith("error: DatabaseError: ")
    assert "file is not a database" in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) == 1 and "Traceback" not in quiet.stderr
    loud = tidings("-v", "workflows", "list", *database, cwd=tmp_path)
    assert loud.returncode == 1
    assert "Traceback (most recent call last)" in loud.stderr


def test_command_groups_are_plural_and_the_singular_spellings_still_work(tmp_path: Path) -> None:
    listed = tidings("--help", cwd=tmp_path).stdout
    groups = set(re.findall(r"│ (\w+)\s", listed))
    assert {"workflows", "contacts", "segments"} <= groups, listed
    assert not {"workflow", "contact", "segment"} & groups, listed  # hidden aliases
    database = f"sqlite:///{tmp_path}/t.db"
    assert tidings("init", "--database", database, cwd=tmp_path).returncode == 0
    for singular in ("workflow", "segment"):
        old = tidings(singular, "list", "--database", database, cwd=tmp_path)
        new = tidings(f"{singular}s", "list", "--database", database, cwd=tmp_path)
        assert (old.returncode, old.stdout) == (new.returncode, new.stdout) == (0, new.stdout)
    old = tidings("contact", "why", "nobody", "--database", database, cwd=tmp_path)
    assert old.returncode == 1 and "no contact 'nobody'" in old.stderr


def test_an_unreachable_database_is_named_once_with_its_reason(tmp_path: Path) -> None:
    # SQLAlchemy wraps the driver's error (its class before, a link after), and the message
    # that explains it quotes it: the reason is told once, not three times.
    missing = ("--database", f"sqlite:///{tmp_path}/no/such/folder/t.db")
    result = tidings("migrate", *missing, cwd=tmp_path)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        f"cannot connect to sqlite:///{tmp_path}/no/such/folder/t.db: unable to open database file"
    ]


def test_a_database_tidings_cannot_use_is_a_setting_error(tmp_path: Path) -> None:
    result = tidings("migrate", "--database", "mysql://shop:s3cret@db/shop", cwd=tmp_path)
    assert result.returncode == 3
    assert "not a database Tidings can use" in result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
