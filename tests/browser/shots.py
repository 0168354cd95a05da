"""Screenshots of the pages the browser tests visit, for looking at what was built.

With SCREENSHOTS_DIR set (`SCREENSHOTS_DIR=/tmp/shots .venv/bin/python -m pytest tests/browser`),
`shoot(page, "name")` saves the page at the tablet and phone sizes as name-1024.png and
name-390.png; without it, nothing is written.
"""

import os

SCREENSHOTS_DIR = os.environ.get("SCREENSHOTS_DIR")
SIZES = ((1024, 768), (390, 844))


def shoot(page, name: str, *, full_page: bool = True) -> None:
    if not SCREENSHOTS_DIR:
        return
    os.makedirs(SCREENSHOTS_DIR, exist_ok=True)
    size = page.viewport_size
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=os.path.join(SCREENSHOTS_DIR, f"{name}-{width}.png"), full_page=full_page)
    page.set_viewport_size(size)
