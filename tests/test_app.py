"""The Gradio app served on localhost, driven by gradio_client and by headless Chromium.

The server is the real ``python app.py`` in a subprocess (offline, embedded profile). Chromium is
Debian's (packages-test.txt), driven through Playwright with the system browser: no browser
download. The screenshot goes to ``$VEMIDI_SCREENSHOT`` when set (the README's picture comes
from here), else into the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def _client_temp_dir(tmp_path_factory):
    """gradio_client stages each download in a folder of its own under the system's temporary
    folder and leaves it there, empty: this module's go to pytest's folders instead."""
    before = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("client-temp"))
    yield
    tempfile.tempdir = before


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python app.py`` on a free port; limits lowered so the bad-input cases are cheap."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "app.log"
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "VEMIDI_MAX_VIDEO_S": "20", "VEMIDI_MAX_UPLOAD": "3mb",
           "VEMIDI_OUTPUT_DIR": str(log.parent / "outputs"),
           "GRADIO_TEMP_DIR": str(log.parent / "gradio"),  # uploads stay in pytest's folder
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail(f"the app did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        assert "Running on local URL" in log.read_text()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def client(server, tmp_path_factory):
    from gradio_client import Client

    return Client(server, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def _analyze(client, video):
    from gradio_client import handle_file

    return client.predict(handle_file(str(video)), "embedded", api_name="/analyze")


def test_client_analyze_then_generate(client, story):
    from gradio_client import handle_file

    out = _analyze(client, story)
    summary, faces, fused, valence, cuts = out[0], out[1], out[6], out[-3], out[-1]
    assert "valence" in summary and faces["label"] == "joy" and fused["label"] == "joy"
    assert valence > 0.3 and cuts == "3.00"
    video, wav, roll, files, report, _ = client.predict(
        handle_file(str(story)), "embedded", -0.4, 0.6, False, "3", 5, 1.2, 0.6, "more (3+)",
        None, "replace", "on", 0, "4", tonal_anchor=True, api_name="/generate",
    )  # fmt: skip
    from vemidi.media.probe import probe

    assert probe(video).duration_s == pytest.approx(6.0, abs=0.1)
    assert Path(wav).stat().st_size > 6 * 44100 * 2 and Path(roll).is_file()
    assert sorted(Path(f).suffix for f in files) == [".json", ".mid", ".mp4", ".wav"]
    assert "notes" in report and "bpm" in report and "minor" in report  # valence -0.4
    assert "struck on 1/1 cuts" in report
    record = json.loads(Path(next(f for f in files if f.endswith(".json"))).read_text())
    assert record["controls"]["tonal_anchor"] == 1.0  # the checkbox reaches the sampler
    assert record["composition"]["sampling"]["tonal_anchor"] == 1.0


def test_readme_gradio_client_example(server, story, tmp_path, monkeypatch):
    """The README's integrator example, run as it stands against the served app."""
    import zipfile

    from readme_examples import example

    shutil.copyfile(story, tmp_path / "clip.mp4")
    monkeypatch.chdir(tmp_path)
    code = example("gradio-client").replace("http://127.0.0.1:7860/", server)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    report, downloads = namespace["report"], namespace["downloads"]
    assert "ducked 12 dB under speech" in report and "-16.0 LUFS" in report
    folder = (tmp_path / "vemidi-downloads").resolve()
    assert downloads and all(Path(f).resolve().is_relative_to(folder) for f in downloads)
    bundle = [f for f in downloads if f.endswith("-stems.zip")]
    assert len(bundle) == 1
    with zipfile.ZipFile(bundle[0]) as archive:
        names = archive.namelist()
    assert any(n.startswith("stems/") and n.endswith(".wav") for n in names)
    assert {Path(n).suffix for n in names} == {".wav", ".mid", ".mp4", ".json"}


@pytest.mark.parametrize("kind", ["not a video", "corrupt", "too long", "too large",
                                  "tiny frames", "a blip of 0.4 s", "starts at 30 s",
                                  "jpeg still"])  # fmt: skip
def test_bad_input_is_one_clear_error_and_the_app_keeps_serving(client, story, tmp_path, kind):
    from gradio_client import handle_file
    from media_factory import cards, edge_case, write_video

    path = tmp_path / "bad.mp4"
    if kind == "starts at 30 s":  # not bad: analysed from its first frame, 6 s long
        out = client.predict(handle_file(str(edge_case(kind, tmp_path))), "embedded",
                             api_name="/analyze")  # fmt: skip
        assert "valence" in out[0]
        return
    if kind in ("tiny frames", "a blip of 0.4 s", "jpeg still"):
        path = edge_case(kind, tmp_path)
    elif kind == "not a video":
        path.write_text("hello, I am a text file")
    elif kind == "corrupt":
        path.write_bytes(story.read_bytes()[:4000])
    elif kind == "too long":  # 25 s of tiny frames: over the server's 20 s limit
        path = write_video(path, cards([(9, 9, 9), (200, 9, 9)], 12.5, size=(64, 48)), fps=4)
    else:
        path.write_bytes(os.urandom(4 * 1024 * 1024))  # over the 3 MB upload limit
    with pytest.raises(Exception) as error:  # gradio_client raises its own types
        client.predict(handle_file(str(path)), "embedded", api_name="/analyze")
    message = str(error.value)
    expected = {"not a video": "not a readable video", "corrupt": "bad.mp4",
                "too long": "the limit is 20 s", "too large": "size",
                "tiny frames": "the smallest supported is 48x48",
                "a blip of 0.4 s": "the shortest supported is 1 s",
                "jpeg still": "is a still image, not a video"}[kind]  # fmt: skip
    assert expected in message and "Traceback" not in message
    if kind != "too large":  # that one is gradio_client's own check, naming the local file
        assert "/tmp/" not in message and "Errno" not in message  # no server path, no errno
    out = client.predict(api_name="/use_detected", video=handle_file(str(story)),
                         profile="embedded")  # fmt: skip
    assert out[2] == "3.00"  # the next request works (and is served from the cache)


@pytest.mark.parametrize(
    ("seed", "cuts", "expected"),
    [
        (None, "3", "seed is required."),
        (5, "1," * 50_000, "cuts_s lists 50000 times; at most 1000"),
        ("five", "3", "seed must be a whole number; got 'five'."),
        ("NaN", "3", "seed must be a finite number; got 'NaN'."),  # JSON has no NaN number
    ],
)
def test_bad_controls_through_the_api_are_one_short_sentence(client, story, seed, cuts, expected):
    from gradio_client import handle_file

    with pytest.raises(Exception) as error:  # gradio_client raises its own types
        client.predict(
            handle_file(str(story)), "embedded", 0.1, 0.1, False, cuts, seed, 1.0, 0.95,
            "more (3+)", None, "replace", "auto", 0, "4", api_name="/generate",
        )  # fmt: skip
    message = str(error.value)
    assert expected in message and len(message) < 300 and "Traceback" not in message


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_browser_drop_slide_generate(server, story, tmp_path):
    from playwright.sync_api import sync_playwright

    shot = Path(os.environ.get("VEMIDI_SCREENSHOT", tmp_path / "app.png"))
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=shutil.which("chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(server)
            _drop_file(page, "#video-in", story)
            page.wait_for_selector("#video-in video", timeout=60_000)
            page.get_by_text("Detected:").wait_for(timeout=120_000)
            # Move the valence slider with the keyboard, as a user would: 0.05 per arrow press.
            detected = float(page.locator("#valence input[type=number]").input_value())
            slider = page.locator("#valence input[type=range]")
            slider.focus()
            for _ in range(round((detected + 0.5) / 0.05)):
                page.keyboard.press("ArrowLeft")
            # Keep the voice (the music ducks under it) and ask for the stems.
            page.get_by_text("More settings").click()
            page.locator("#audio-mode").get_by_text("mix", exact=True).click()
            page.locator("#stems input[type=checkbox]").check()
            page.locator("#generate").click()
            page.wait_for_selector("#video-out video", timeout=180_000)
            page.get_by_text("notes").first.wait_for(timeout=30_000)
            page.get_by_text("ducked 12 dB under speech").first.wait_for(timeout=30_000)
            page.locator("#downloads").get_by_text("story-vemidi-stems").first.wait_for(
                timeout=30_000
            )
            moved = float(page.locator("#valence input[type=number]").input_value())
            assert moved == pytest.approx(-0.5, abs=0.051) and moved < detected - 0.5
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            # Bad input through the page: one clear sentence in a toast, and the page lives on.
            bad = tmp_path / "notes.mp4"
            bad.write_text("these are my notes, not a video")
            page.locator("#video-in button[aria-label='Clear']").first.click()
            _drop_file(page, "#video-in", bad)
            page.get_by_text("is not a readable video").first.wait_for(timeout=60_000)
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000


def _drop_file(page, selector: str, path: Path) -> None:
    """Drag a file from the desktop onto an element: a real drop event with a DataTransfer."""
    import base64

    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: "video/mp4"}));
            return dt;
        }""",
        [data, path.name],
    )
    target = page.locator(f"{selector} [data-testid='upload-container'], {selector} button").first
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": transfer})
