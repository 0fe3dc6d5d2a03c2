"""The web as a visitor and a crawler see it: a guarded Chromium and page audits."""
