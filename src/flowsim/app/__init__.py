"""The workshop app (Streamlit): ``flowsim app`` starts it.

`flowsim.app.engine` and `flowsim.app.views` do the work and import no Streamlit, so worker
processes and notebooks can use them; `flowsim.app.main` is the page. Importing this package
imports neither.
"""

from pathlib import Path

MAIN_SCRIPT = Path(__file__).with_name("main.py")
"""The page's script, as ``streamlit run`` takes it."""

__all__ = ["MAIN_SCRIPT"]
