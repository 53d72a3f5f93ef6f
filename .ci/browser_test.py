"""Open the built documentation site (and a run report) in headless Chromium and fail on what a reader would see broken.

The site in `_proc/_docs` (`make docs`) is served on localhost; every page is loaded in Debian's Chromium through
chromedriver (Selenium). A page fails on:
- a formula left unrendered: TeX delimiters in the page's text outside code, or a KaTeX error;
- a broken image (not loaded, or zero-sized), or a link to a page of the site that does not exist, or to an anchor
  that the target page does not have;
- a JavaScript error or a failed load in the browser's console, or a request that leaves localhost;
- a page without its title (the notebook's first cell, `# name` and `> description`).
It also renders a small run's `report.html` (`ospo run cpu-tiny`, seconds; and `outputs/run/report.html` when
`make demo` has run) and checks it the same way. Screenshots of the index, the loss page and the run reports go to
`_proc/screenshots/`.

Usage: python .ci/browser_test.py [SITE_DIR]
"""
import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-size=1280,1000']
CHECK = r"""
const skip = new Set(['SCRIPT', 'STYLE', 'PRE', 'CODE', 'TEXTAREA', 'NOSCRIPT']);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
  for (let e = node.parentElement; e; e = e.parentElement) if (skip.has(e.tagName) || e.classList.contains('katex'))
    return NodeFilter.FILTER_REJECT;
  return NodeFilter.FILTER_ACCEPT; }});
const raw = [];
while (walker.nextNode()) { const t = walker.currentNode.textContent;
  if (/\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\mathrm|\\sum/.test(t)) raw.push(t.trim().slice(0, 80)); }
const images = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
  .map(i => (i.getAttribute('src') || '').slice(0, 80));
return {raw: raw, katex: document.querySelectorAll('.katex').length,
        katexErrors: document.querySelectorAll('.katex-error').length, images: images,
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        resources: performance.getEntriesByType('resource').map(r => r.name),
        title: (document.querySelector('h1.title') || {textContent: ''}).textContent.trim()};
"""


def serve(folder: Path):
    "Serve `folder` on a free localhost port in a thread; return (base URL, server)."
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f'http://127.0.0.1:{server.server_address[1]}/', server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


def browser(profile: str):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
    for flag in FLAGS + [f'--user-data-dir={profile}']: options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(options=options, service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'))


def wait_loaded(driver, seconds: float = 15.0):
    "Wait until the page, its images (lazy ones made eager) and KaTeX's deferred rendering are done."
    import time
    driver.execute_script("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if driver.execute_script("return document.readyState === 'complete' && [...document.images].every(i => i.complete)"):
            break
        time.sleep(0.1)
    time.sleep(0.3)  # auto-render runs on DOMContentLoaded; leave it a moment on a busy machine


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset:
    return frozenset(re.findall(r'\b(?:id|name)="([^"]+)"', path.read_text(errors='replace')))


def check(driver, url: str, base: str, folder: Path, titled: bool = False) -> tuple:
    "Load `url`; return (problems, formulas rendered, links checked). `titled`: a docs page needs its notebook's title."
    driver.get_log('browser')  # drop what earlier pages left
    driver.get(url)
    wait_loaded(driver)
    found = driver.execute_script(CHECK)
    problems = [f'unrendered formula: {t!r}' for t in found['raw'][:5]]
    if titled and not found['title']: problems.append("no title: the notebook's first cell is not '# name' and '> description'")
    if found['katexErrors']: problems.append(f"{found['katexErrors']} KaTeX errors")
    problems += [f'broken image: {src}' for src in found['images']]
    problems += [f'console: {e["message"][:200]}' for e in driver.get_log('browser') if e['level'] == 'SEVERE']
    problems += [f'network request: {r[:100]}' for r in found['resources'] if not r.startswith((base, 'data:', 'blob:'))]
    checked = 0
    for link in found['links']:
        target, fragment = urldefrag(link)
        if not target.startswith(base): continue  # another site: not reachable offline, not checked
        checked += 1
        path = folder / unquote(urlparse(target).path[len(urlparse(base).path):])
        if path.is_dir(): path = path / 'index.html'
        if not path.is_file(): problems.append(f'broken link: {link}')
        elif fragment and path.suffix == '.html' and unquote(fragment) not in anchors(path):
            problems.append(f'missing anchor: {link}')
    return problems, found['katex'], checked


def screenshot(driver, url: str, path: Path):
    "A screenshot of the whole page (up to 6000 px tall)."
    driver.get(url)
    wait_loaded(driver)
    height = min(6000, driver.execute_script('return document.documentElement.scrollHeight'))
    driver.set_window_size(1280, max(800, height))
    wait_loaded(driver, 5)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def run_report(out: Path) -> Path:
    "A small run's `report.html`: `ospo run cpu-tiny` (seconds), in `out`."
    shutil.rmtree(out, ignore_errors=True)
    command = [str(Path(sys.executable).parent / 'ospo'), 'run', 'cpu-tiny', str(out), '--no-progress']
    result = subprocess.run(command, capture_output=True, text=True, env={'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1',
                                                                          'PATH': '/usr/bin:/bin'})
    if result.returncode: raise SystemExit(f'FAILED browser test: {" ".join(command)}:\n{result.stderr[-2000:]}')
    return out / 'report.html'


def main(site: Path) -> int:
    if not (site / 'index.html').is_file(): return fail(f'no site in {site}: run `make docs` first')
    shots = ROOT / '_proc' / 'screenshots'
    shots.mkdir(parents=True, exist_ok=True)
    base, server = serve(site)
    tiny = run_report(ROOT / '_proc' / 'run-cpu-tiny')
    reports = {'run-report-cpu-tiny': tiny, 'iteration-report-cpu-tiny': tiny.parent / 'iter1' / 'report.html'}
    demo = ROOT / 'outputs' / 'run'  # the demo's reports, when `make demo` has run
    if (demo / 'report.html').is_file(): reports.update({'run-report': demo / 'report.html',
                                                          'iteration-report': demo / 'iter1' / 'report.html'})
    failures, formulas, links = {}, 0, 0
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            pages = sorted(site.rglob('*.html'))
            for page in pages:
                problems, rendered, checked = check(driver, base + page.relative_to(site).as_posix(), base, site,
                                                    titled=True)
                formulas, links = formulas + rendered, links + checked
                if problems: failures[page.relative_to(site).as_posix()] = problems
            for report in reports.values():
                problems, _, _ = check(driver, report.as_uri(), report.parent.as_uri() + '/', report.parent)
                if problems: failures[str(report)] = problems
            screenshot(driver, base + 'index.html', shots / 'index.png')
            screenshot(driver, base + '08_loss.html', shots / 'loss.png')
            for name, report in reports.items(): screenshot(driver, report.as_uri(), shots / f'{name}.png')
        finally:
            driver.quit()
            server.shutdown()
    for page, problems in failures.items():
        print(f'FAILED {page}:\n  ' + '\n  '.join(problems[:20]), file=sys.stderr)
    print(f'browser: {len(pages)} pages and {len(reports)} run reports in Chromium, {formulas} formulas rendered, '
          f'{links} local links checked; screenshots in {shots.relative_to(ROOT)}')
    if formulas == 0: return fail('no formula was rendered anywhere (KaTeX did not run)')
    return fail(f'{len(failures)} pages with problems') if failures else 0


def fail(message: str) -> int:
    print(f'FAILED browser test: {message}', file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / '_proc' / '_docs'))
