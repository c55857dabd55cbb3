"""What the app's server is made of: the pages' script and the HTTP routes beside it — the published one-map
files and their vector tiles behind the same sign-in (``/maps/…``, ``/tiles/…``) and the maps' field-report form
(``POST /field-reports``).  ``app.py`` (a checkout, ``make demo``) and :mod:`services.app_server` (an installed
wheel, ``onemap serve``) each make their ``st.App`` of these (Streamlit finds the App in the file it runs)."""

from pathlib import Path

from services.field_report_route import ROUTES as REPORT_ROUTES
from services.published_maps import ROUTES as MAP_ROUTES

#: The pages' script (a path, not an import: Streamlit runs it for each session).
PAGES = Path(__file__).resolve().parent.parent / "ui" / "main.py"
#: Streamlit's settings for the app as the wheel carries them; `.streamlit/config.toml` (what `streamlit run app.py`
#: reads in a checkout) is the same file, byte for byte (tests/unit/test_settings.py).
STREAMLIT_CONFIG = Path(__file__).with_name("streamlit_config.toml")
ROUTES = [*MAP_ROUTES, *REPORT_ROUTES]
