"""How the corpus manifest's labels read as the gate's categories (shared by bench and tests)."""

from __future__ import annotations


def people_categories(label) -> set[str]:
    """The manifest's people label ("0", "1", "2", "5-8", "10+ ...", "0-2", "1-2 ...") as the
    categories it allows: none, one, several."""
    text = str(label)
    if text.startswith("0-2"):
        return {"none", "one", "several"}
    if text.startswith("1-2"):
        return {"one", "several"}
    n = int(text.split()[0].rstrip("+").split("-")[0])
    return {"none"} if n == 0 else {"one"} if n == 1 else {"several"}


def category(n: int) -> str:
    """A people count as the gate sees it."""
    return "none" if n == 0 else "one" if n == 1 else "several"
