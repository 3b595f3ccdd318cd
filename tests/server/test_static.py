"""Static files: content types, HEAD, caching, directories, and no way out of the root.

Requests are written by hand (raw HTTP/1.1 over TCP), so paths reach the server exactly as
given: HTTP clients would normalize ``..`` away before sending.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import h11
import pytest

from thinkio.http import StaticFiles
from thinkio.http.static import content_type
from thinkio.server import Server

from .conftest import running

pytestmark = pytest.mark.anyio


async def request(
    url: str, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw request; returns (status, headers, body)."""
    host, port = url.removeprefix("http://").split(":")
    conn = h11.Connection(h11.CLIENT)
    hdrs = [("host", f"{host}:{port}"), *(headers or {}).items()]
    if method == "POST":
        hdrs.append(("content-length", "0"))
    data = conn.send(h11.Request(method=method, target=target, headers=hdrs))
    data += conn.send(h11.EndOfMessage())
    body = b""
    with anyio.fail_after(5):
        async with await anyio.connect_tcp(host, int(port)) as stream:
            await stream.send(data)
            response: h11.Response | None = None
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive())
                elif isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
    assert response is not None
    got = {k.decode(): v.decode() for k, v in response.headers}
    return response.status_code, got, body


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "www"
    files = {
        "index.html": "<h1>home</h1>",
        "app.js": "console.log(1)",
        "style.css": "body{}",
        "logo.svg": "<svg/>",
        "data.json": "{}",
        "app.js.map": "{}",
        "mod.wasm": "\0asm",
        "blob.xyz123": "?",
        "sub/index.html": "<h1>sub</h1>",
        "sub/deeper/file.txt": "deep",
        "nosub/readme.txt": "no index here",
        ".env": "SECRET=1",
        ".well-known/security.txt": "contact",
        "é.txt": "accent",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(tmp_path, root / "escape-dir")
    os.symlink(root / "app.js", root / "alias.js")
    return root


def serve_site(root: Path) -> Server:
    io = Server()
    io.router.fallback = StaticFiles(root)
    return io


@pytest.mark.parametrize(
    ("target", "ctype", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/index.html", "text/html; charset=utf-8", b"<h1>home</h1>"),
        ("/app.js", "text/javascript; charset=utf-8", b"console.log(1)"),
        ("/style.css", "text/css; charset=utf-8", b"body{}"),
        ("/logo.svg", "image/svg+xml", b"<svg/>"),
        ("/data.json", "application/json", b"{}"),
        ("/app.js.map", "application/json", b"{}"),
        ("/mod.wasm", "application/wasm", b"\0asm"),
        ("/blob.xyz123", "application/octet-stream", b"?"),
        ("/sub/", "text/html; charset=utf-8", b"<h1>sub</h1>"),
        ("/sub/deeper/file.txt", "text/plain; charset=utf-8", b"deep"),
        ("/alias.js", "text/javascript; charset=utf-8", b"console.log(1)"),  # link inside root
        ("/.well-known/security.txt", "text/plain; charset=utf-8", b"contact"),
        ("/%C3%A9.txt", "text/plain; charset=utf-8", b"accent"),
        ("/app.js?v=3", "text/javascript; charset=utf-8", b"console.log(1)"),
    ],
)
async def test_files_with_their_content_types(
    site: Path, target: str, ctype: str, body: bytes
) -> None:
    async with running(serve_site(site)) as url:
        status, headers, got = await request(url, target)
    assert (status, headers["content-type"], got) == (200, ctype, body)
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/escape.txt",  # a symlink out of the root
        "/escape-dir/secret.txt",
        "/.env",
        "/sub/./index.html",
        "/index.html%00.js",
        "/%ff",
        "/missing.html",
        "/nosub/",  # a directory without index.html
    ],
)
async def test_nothing_outside_the_root_and_no_hidden_files(site: Path, target: str) -> None:
    async with running(serve_site(site)) as url:
        status, _, body = await request(url, target)
    assert status == 404
    assert b"outside" not in body and b"SECRET" not in body


async def test_head_sends_the_headers_of_get_without_a_body(site: Path) -> None:
    async with running(serve_site(site)) as url:
        status, headers, body = await request(url, "/app.js", "HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len("console.log(1)"))
    assert headers["content-type"] == "text/javascript; charset=utf-8"


async def test_etag_and_last_modified_give_304(site: Path) -> None:
    async with running(serve_site(site)) as url:
        _, headers, _ = await request(url, "/style.css")
        etag, modified = headers["etag"], headers["last-modified"]
        status, headers304, body = await request(url, "/style.css", headers={"if-none-match": etag})
        assert (status, body) == (304, b"")
        assert "content-length" not in headers304 and headers304["etag"] == etag
        status, _, _ = await request(url, "/style.css", headers={"if-modified-since": modified})
        assert status == 304
        status, _, _ = await request(url, "/style.css", headers={"if-none-match": '"other"'})
        assert status == 200
        old = "Mon, 01 Jan 2001 00:00:00 GMT"
        status, _, _ = await request(url, "/style.css", headers={"if-modified-since": old})
        assert status == 200
        status, _, _ = await request(url, "/style.css", headers={"if-modified-since": "junk"})
        assert status == 200


async def test_a_directory_without_its_slash_is_redirected(site: Path) -> None:
    async with running(serve_site(site)) as url:
        status, headers, _ = await request(url, "/sub")
        assert (status, headers["location"]) == (301, "/sub/")
        status, headers, _ = await request(url, "/sub/deeper")
        assert (status, headers["location"]) == (301, "/sub/deeper/")


async def test_only_get_and_head(site: Path) -> None:
    async with running(serve_site(site)) as url:
        status, headers, _ = await request(url, "/index.html", "POST")
    assert (status, headers["allow"]) == (405, "GET, HEAD")


async def test_socket_io_still_answers_under_its_path(site: Path) -> None:
    async with running(serve_site(site)) as url:
        status, _, body = await request(url, "/socket.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith(b"0{")


def test_content_type_table() -> None:
    assert content_type("a.JS") == "text/javascript; charset=utf-8"
    assert content_type("a.png") == "image/png"
    assert content_type("a.txt") == "text/plain; charset=utf-8"
    assert content_type("noext") == "application/octet-stream"
