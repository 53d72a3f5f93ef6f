"""Build the documentation site and the README from the notebooks, offline.

Quarto cannot be installed on our machines (its PyPI package downloads a binary), and `nbdev_proc_nbs` tries to
install it (with sudo, then `pip install -e .` into whatever pip is on PATH). So this script runs the same steps
without that: nbdev's own notebook processing into `_proc/`, then `smalldocs` (a pure-Python renderer that reads the
same `_quarto.yml`) for the site, and `nbconvert` (Jupyter's converter) for `README.md`. Then it makes the site work
offline and on its own page names:

- KaTeX (which smalldocs loads from a CDN) is served from the site: the `katex` package is fetched once from the npm
  registry (`npm pack`, cached in `.cache/`) and its `dist` copied into `site_libs/katex`;
- nbdev's symbol links point at the deployed site's page names (`loss.html`); they are rewritten to the local pages
  (`08_loss.html`), relative to each page;
- links that nbdev wrote as Markdown inside code (docments comments in signatures) become HTML links.

It exits non-zero when a notebook fails to process, a page is missing, the sidebar misses a notebook, or a page still
loads something from the network, so a broken site fails `make test` (the browser test, `.ci/browser_test.py`, then
opens it).

Usage: python .ci/build_docs.py [--readme]
"""
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import nbdev.doclinks
import yaml
from nbdev.config import get_config
from nbdev.doclinks import _nbpath2html, nbglob
from nbdev.quarto import refresh_quarto_yml
from nbdev.serve import proc_nbs
from smalldocs.layout import KATEX


def main(readme: bool = False) -> int:
    cfg = get_config()
    nbs, proc = cfg.nbs_path, cfg.config_path / "_proc"
    shutil.rmtree(proc, ignore_errors=True)
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    notebooks = [p.relative_to(nbs) for p in nbglob(nbs, func=Path)]
    unlisted = sorted(set(map(str, notebooks)) - sidebar_files(nbs / "sidebar.yml"))
    if unlisted: return fail(f"nbs/sidebar.yml does not list {unlisted}")
    proc_nbs(nbs, n_workers=2, force=True)
    missing = [str(n) for n in notebooks if not (proc / n).exists()]
    if missing: return fail(f"notebooks that nbdev could not process: {missing}")
    bin_dir = Path(sys.executable).parent
    if readme: return write_readme(cfg, proc, bin_dir)
    run = subprocess.run([bin_dir / "smalldocs", "render", proc, "--quiet"], capture_output=True, text=True)
    print(run.stdout + run.stderr)
    if run.returncode: return fail(f"smalldocs render exited {run.returncode}")
    site = next((d for d in (proc / "_docs", proc / "_site") if d.is_dir()), None)
    if site is None: return fail("smalldocs wrote no site folder")
    pages = {p.stem for p in site.rglob("*.html")}
    absent = [str(n) for n in notebooks if n.stem not in pages]
    if absent: return fail(f"no page was built for {absent}")
    install_katex(site / "site_libs" / "katex", cfg.config_path / ".cache")
    for css in (site / "site_libs").rglob("*.css"):  # the theme's web fonts: the system's fonts stand in offline
        css.write_text(re.sub(r"@import url\((?:\"|')?https?://[^)]*\);?", "", css.read_text()))
    host = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/") + "/"
    local = {_nbpath2html(n).as_posix(): n.with_suffix(".html").as_posix() for n in notebooks}
    remote = []
    for page in site.rglob("*.html"): remote += localize(page, site, host, local)
    if remote: return fail(f"pages that still load from the network: {sorted(set(remote))[:10]}")
    print(f"docs: {len(notebooks)} notebooks -> {len(pages)} pages in {site}")
    return 0


def sidebar_files(path: Path) -> set:
    "Every notebook the hand-written sidebar links to."
    found = set()
    def walk(entries):
        for entry in entries or []:
            if isinstance(entry, str): found.add(entry)
            elif isinstance(entry, dict):
                if entry.get("href"): found.add(entry["href"])
                walk(entry.get("contents"))
    walk(yaml.safe_load(path.read_text())["website"]["sidebar"]["contents"])
    return found


def install_katex(target: Path, cache: Path):
    "Copy KaTeX's `dist` (the version smalldocs names) into the site, fetching the npm package once into `cache`."
    version = re.search(r"katex@([\d.]+)", KATEX)[1]
    dist = cache / f"katex-{version}" / "package" / "dist"
    if not (dist / "katex.min.js").exists():
        if shutil.which("npm") is None: raise SystemExit("FAILED docs build: npm is needed once to fetch KaTeX")
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["npm", "pack", f"katex@{version}", "--pack-destination", d, "--silent"], check=True,
                           capture_output=True)
            with tarfile.open(next(Path(d).glob("katex-*.tgz"))) as tar:
                tar.extractall(cache / f"katex-{version}", filter="data")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(dist, target)


MARKDOWN_LINK = re.compile(r"\[(`?)([^\[\]<>`\n]+?)\1\]\(([^()\s\"]+?\.html(?:#[^()\s\"]*)?)\)")
REMOTE = re.compile(r"<(?:script|img)[^>]+src=\"(https?://[^\"]+)\"|<link[^>]+rel=\"stylesheet\"[^>]+href=\"(https?://[^\"]+)\"")


def localize(page: Path, site: Path, host: str, local: dict) -> list:
    "Serve KaTeX from the site, point symbol links at local pages, turn Markdown links into HTML; return remote loads."
    offset = "../" * (len(page.relative_to(site).parts) - 1)
    text = page.read_text().replace(KATEX, f"{offset}site_libs/katex")
    def symbol(m):  # an anchor the page lacks (a method without its own entry) falls back to its class's
        target = local.get(m[1], m[1])
        ids = anchors(site / target) if (site / target).is_file() else set()
        anchor = m[2] if m[2] in ids else m[2].split(".")[0] if m[2].split(".")[0] in ids else ""
        return offset + target + (f"#{anchor}" if anchor else "")
    text = re.sub(re.escape(host) + r"([\w./-]+?\.html)(?:#([\w.-]*))?", lambda m: symbol(m) if m[2] else
                  offset + local.get(m[1], m[1]), text)
    text = MARKDOWN_LINK.sub(lambda m: f'<a href="{m[3]}">{m[2]}</a>', text)
    page.write_text(text)
    return [a or b for a, b in REMOTE.findall(text)]


def anchors(page: Path, cache={}) -> set:
    "The ids of a page's elements."
    if page not in cache: cache[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text()))
    return cache[page]


def write_readme(cfg, proc: Path, bin_dir: Path) -> int:
    "README.md from the index notebook; its links to notebooks go into `nbs/`, as GitHub shows them."
    subprocess.run([bin_dir / "jupyter", "nbconvert", "--log-level", "WARN", "--to", "markdown",
                    proc / cfg.readme_nb, "--output-dir", cfg.config_path, "--output", "README"], check=True)
    path = cfg.config_path / "README.md"
    text = path.read_text()
    if text.startswith("---\n"): text = text[text.index("\n---\n", 4) + 5:].lstrip()  # drop the Quarto front matter
    text = re.sub(r"\]\((?!https?:|#|/|nbs/)([\w/.-]+\.ipynb)(#[\w-]*)?\)", r"](nbs/\1\2)", text)
    path.write_text(text)
    print("wrote README.md")
    return 0


def fail(message: str) -> int:
    print(f"FAILED docs build: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(readme="--readme" in sys.argv[1:]))
