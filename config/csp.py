"""Per-view Content-Security-Policy exceptions (the site-wide policy is in settings).

The API documentation pages (drf-spectacular's Swagger UI and ReDoc, their files served
locally by drf-spectacular-sidecar) cannot live under the site's policy: Swagger UI's page
starts it with an inline script and an inline <style>, and ReDoc injects its styles as
<style> elements and runs its search in a blob: worker. Only those two views get this
relaxed policy, by wrapping them: ``csp_for_api_docs(SpectacularSwaggerView.as_view(...))``.
Nothing on them is account data, and they are still framed by nobody and talk only to us.

Checked in Chromium with the sidecar files (SWAGGER_UI_DIST/REDOC_DIST "SIDECAR"): Swagger UI
runs without a violation; ReDoc renders, and its two third-party loads stay blocked on
purpose (drf-spectacular's template links Google Fonts, ReDoc's footer logo comes from
cdn.redoc.ly): the docs fall back to system fonts and make no request off the site.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace

# Replaced, not added to: next to a hash (the site's style-src) 'unsafe-inline' is ignored.
API_DOCS_CSP_REPLACE = {
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    "worker-src": [SELF, "blob:"],
}

csp_for_api_docs = csp_replace(API_DOCS_CSP_REPLACE)
