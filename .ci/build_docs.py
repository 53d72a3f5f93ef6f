"""Build the documentation site and the README from the notebooks, offline.

Quarto cannot be installed on our machines (its PyPI package downloads a binary), and `nbdev_proc_nbs` tries to
install it (with sudo, then `pip install -e .` into whatever pip is on PATH). So this script runs the same steps
without that: nbdev's own notebook processing into `_proc/`, then `smalldocs` (a pure-Python renderer that reads the
same `_quarto.yml`) for the site, and `nbconvert` (Jupyter's converter) for `README.md`. It exits non-zero when a
notebook fails to process or a page is missing, so a broken page fails `make test`.

Usage: python .ci/build_docs.py [--readme]
"""
import shutil
import subprocess
import sys
from pathlib import Path

import nbdev.doclinks
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
from nbdev.serve import proc_nbs


def main(readme: bool = False) -> int:
    cfg = get_config()
    nbs, proc = cfg.nbs_path, cfg.config_path / "_proc"
    shutil.rmtree(proc, ignore_errors=True)
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=nbs)
    proc_nbs(nbs, n_workers=2, force=True)
    notebooks = [p.relative_to(nbs) for p in nbglob(nbs, func=Path)]
    missing = [str(n) for n in notebooks if not (proc / n).exists()]
    if missing: return fail(f"notebooks that nbdev could not process: {missing}")
    bin_dir = Path(sys.executable).parent
    if readme:
        subprocess.run([bin_dir / "jupyter", "nbconvert", "--log-level", "WARN", "--to", "markdown",
                        proc / cfg.readme_nb, "--output-dir", cfg.config_path, "--output", "README"], check=True)
        text = (cfg.config_path / "README.md").read_text()
        if text.startswith("---\n"): text = text[text.index("\n---\n", 4) + 5:].lstrip()  # drop the Quarto front matter
        (cfg.config_path / "README.md").write_text(text)
        print("wrote README.md")
        return 0
    run = subprocess.run([bin_dir / "smalldocs", "render", proc, "--quiet"], capture_output=True, text=True)
    print(run.stdout + run.stderr)
    if run.returncode: return fail(f"smalldocs render exited {run.returncode}")
    site = next((d for d in (proc / "_docs", proc / "_site") if d.is_dir()), None)
    if site is None: return fail("smalldocs wrote no site folder")
    pages = {p.stem for p in site.rglob("*.html")}
    absent = [str(n) for n in notebooks if n.stem not in pages]
    if absent: return fail(f"no page was built for {absent}")
    print(f"docs: {len(notebooks)} notebooks -> {len(pages)} pages in {site}")
    return 0


def fail(message: str) -> int:
    print(f"FAILED docs build: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(readme="--readme" in sys.argv[1:]))
