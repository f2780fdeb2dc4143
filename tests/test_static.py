"""Static files: content-hashed names cached for a year, compressed, light first loads."""

import re


def test_pages_link_hashed_static_files_cached_for_a_year(client):
    page = client.get("/").text
    css = re.search(r'href="(/static/css/eclair\.[0-9a-f]{10}\.css)"', page)
    assert css, page[:500]
    response = client.get(css.group(1), headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert "content-security-policy" not in response.headers  # page-only headers stay off
    # A stale hash is still served, but not cached as if it were right.
    stale = re.sub(r"\.[0-9a-f]{10}\.", ".0000000000.", css.group(1))
    assert client.get(stale).headers["cache-control"] == "no-cache"
    assert client.get("/static/css/eclair.css").headers["cache-control"] == "no-cache"
    assert client.get("/static/css/nope.0123456789.css").status_code == 404


def test_participant_page_scripts_are_hashed_and_deferred(seance, client):
    seance.join()
    page = client.get(f"/s/{seance.code}").text
    scripts = re.findall(r"<script[^>]*>", page)
    assert len(scripts) == 3 and all(" defer" in s for s in scripts)
    assert all(re.search(r"\.[0-9a-f]{10}\.js", s) for s in scripts)
