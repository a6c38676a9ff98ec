# The browser fixtures (Chromium via Playwright) for the CSP browser test.
from tests.browser.conftest import browser, login, page, screenshot  # noqa: F401
