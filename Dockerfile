# LUMINA in one container: bot (long polling, or a webhook with LUMINA_WEBHOOK_URL), scheduler and web app.
# SQLite in /data by default; LUMINA_DATABASE_URL (PostgreSQL) and LUMINA_REDIS_URL for several instances.
#   docker build -t lumina .                     PDFs included (LibreOffice headless and the documents' fonts)
#   docker build --target slim -t lumina:slim .  without LibreOffice (~600 MB smaller; the bot says PDF is off)
FROM python:3.11-slim AS slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LUMINA_DATA_DIR=/data \
    LUMINA_HTTP_HOST=0.0.0.0 \
    LUMINA_HTTP_PORT=8080 \
    LUMINA_LOCALES_DIR=/app/locales \
    LUMINA_TEMPLATES_DIR=/app/templates

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY domain ./domain
COPY storage ./storage
COPY jobs ./jobs
COPY locales ./locales
COPY templates ./templates
RUN pip install . \
    # catalogs are compiled in memory at start; check here that they compile, so a broken one fails the build
    && python -c "from bot.i18n import LOCALES, translations; [translations(l) for l in LOCALES]" \
    && useradd --create-home --uid 10001 lumina \
    && mkdir -p /data && chown lumina:lumina /data

USER lumina
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status == 200 else 1)"
CMD ["lumina", "run"]

FROM slim AS full
USER root
# LibreOffice for PDFs, with the fonts the default templates are laid out in (Liberation = metric-compatible with
# Arial/Times, DejaVu for everything else). `unshare` (util-linux) cuts LibreOffice off the network where the
# container may create namespaces; elsewhere the bot logs that it runs without that fence.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-liberation2 fonts-dejavu-core \
       util-linux \
    && rm -rf /var/lib/apt/lists/*
USER lumina
