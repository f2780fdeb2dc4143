# Éclair in a container: the wheel, the pinned dependencies of requirements-runtime.lock,
# and the Debian libraries WeasyPrint draws PDFs with. Build from the checkout's root:
#   docker build -t eclair .
# deploy/compose.yaml runs it behind Caddy (HTTPS) with PostgreSQL and Redis.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY facilitation ./facilitation
# Building the wheel compiles the gettext catalogues (the .mo are not in git).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# pango, cairo and harfbuzz-subset for WeasyPrint's PDFs; DejaVu, the reports' fallback font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libcairo2 \
      libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements-runtime.lock /tmp/requirements-runtime.lock
RUN pip install --require-hashes -r /tmp/requirements-runtime.lock
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/eclair-*.whl && rm -rf /tmp/wheels

# Not root. Its home is the working directory: an SQLite database (data/eclair.db, when no
# DATABASE_URL is given) and the key of SMS numbers' hashes (data/eclair.db.phone-key) are
# kept there, on a volume.
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/eclair eclair
USER eclair
WORKDIR /var/lib/eclair
VOLUME /var/lib/eclair

ENV ECLAIR_HOST=0.0.0.0 ECLAIR_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["eclair"]
